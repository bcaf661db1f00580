package dev.berth.examples.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.berth.cgroups.CgroupStats;
import dev.berth.core.Container;
import dev.berth.core.ContainerInfo;
import dev.berth.core.ContainerStatus;
import dev.berth.core.ExitStatus;
import dev.berth.core.UserNamespace;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.lang.reflect.Proxy;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** The container commands against a fake state root: parsing, lookups, refusals, output. */
class ContainerCommandsTest {
    private static final Instant NOW = Instant.now();

    /** A state root of fixed containers; records what was done to them. */
    static final class FakeContainers implements Containers {
        final List<ContainerInfo> infos = new ArrayList<>();
        final List<String> done = Collections.synchronizedList(new ArrayList<>());
        CgroupStats stats = CgroupStats.empty();
        final List<dev.berth.core.LogEntry> log = new ArrayList<>();
        dev.berth.core.LogQuery lastQuery;
        /** The state and storage roots the command opened this with. */
        List<java.nio.file.Path> roots;

        FakeContainers add(String id, ContainerStatus status) {
            Optional<ExitStatus> exit = status == ContainerStatus.EXITED ? Optional.of(ExitStatus.exited(3)) : Optional.empty();
            infos.add(new ContainerInfo(id, status, Optional.of("busybox:latest"), Optional.empty(),
                    NOW.minus(Duration.ofMinutes(10)), Optional.of(NOW.minus(Duration.ofMinutes(5))),
                    exit.map(e -> NOW.minus(Duration.ofMinutes(3))), exit, 4242, ContainerInfo.Owner.ANOTHER_RUNTIME));
            return this;
        }

        @Override
        public List<ContainerInfo> list() {
            return List.copyOf(infos);
        }

        @Override
        public Container open(String id) {
            return (Container) Proxy.newProxyInstance(getClass().getClassLoader(), new Class<?>[] {Container.class},
                    (proxy, m, args) -> {
                        String call = m.getName() + (args == null ? "" : List.of(args).toString()) + " " + id;
                        switch (m.getName()) {
                            case "close":
                                return null;
                            case "stats":
                                return stats;
                            case "waitFor":
                            case "stop":
                                done.add(call);
                                return ExitStatus.killed(15);
                            case "id":
                                return id;
                            case "logs":
                                lastQuery = (dev.berth.core.LogQuery) args[0];
                                return log.stream();
                            default:
                                done.add(call);
                                return null;
                        }
                    });
        }

        @Override
        public void remove(String id, boolean force) {
            done.add("remove[" + force + "] " + id);
        }

        @Override
        public void close() {}
    }

    /** exit code, stdout, stderr. */
    private static String[] run(FakeContainers fake, String... args) {
        PrintStream out0 = System.out;
        PrintStream err0 = System.err;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
        try {
            CommandLine.IFactory factory = new CommandLine.IFactory() {
                @Override
                public <K> K create(Class<K> cls) throws Exception {
                    K k = CommandLine.defaultFactory().create(cls);
                    if (k instanceof ContainerCommand c) {
                        c.opener = (state, storage) -> {
                            fake.roots = List.of(state, storage);
                            return fake;
                        };
                    }
                    return k;
                }
            };
            int code = BerthCli.execute(factory, args);
            return new String[] {Integer.toString(code), out.toString(StandardCharsets.UTF_8),
                err.toString(StandardCharsets.UTF_8)};
        } finally {
            System.setOut(out0);
            System.setErr(err0);
        }
    }

    private static FakeContainers three() {
        return new FakeContainers().add("web-1", ContainerStatus.RUNNING).add("web-2", ContainerStatus.PAUSED)
                .add("a1b2c3d4e5f6", ContainerStatus.EXITED);
    }

    @Test
    void aNameIsAnExactIdOrAUniquePrefix() throws Exception {
        List<String> ids = List.of("web-1", "web-10", "a1b2c3d4e5f6", "a1ffff");
        assertThat(ContainerNames.resolve(ids, "web-1")).as("exact beats being a prefix of web-10").isEqualTo("web-1");
        assertThat(ContainerNames.resolve(ids, "a1b")).isEqualTo("a1b2c3d4e5f6");
        assertThatThrownBy(() -> ContainerNames.resolve(ids, "a1")).hasMessageContaining("a1 is ambiguous")
                .hasMessageContaining("a1b2c3d4e5f6, a1ffff");
        assertThatThrownBy(() -> ContainerNames.resolve(ids, "nope")).hasMessage("Error response from daemon: No such container: nope");
        assertThatThrownBy(() -> ContainerNames.resolve(ids, "")).as("empty is not a prefix of everything")
                .hasMessage("Error response from daemon: No such container: ");
        assertThatThrownBy(() -> ContainerNames.resolve(ids, "../web-1")).hasMessageContaining("No such container");
        assertThat(ContainerNames.resolveAll(ids, List.of("a1b", "a1b2c3d4e5f6", "web-1")))
                .as("named twice, acted on once").containsExactly(Map.entry("a1b2c3d4e5f6", "a1b"), Map.entry("web-1", "web-1"));
    }

    @Test
    void anUnknownNameChangesNothingAndExits1LikeDocker() {
        FakeContainers f = three();
        String[] r = run(f, "stop", "web-1", "nope", "web-2");
        assertThat(r[0]).isEqualTo("1");
        assertThat(r[2]).isEqualTo("Error response from daemon: No such container: nope\n");
        assertThat(r[1]).isEmpty();
        assertThat(f.done).as("web-1 was not stopped before nope was found missing").isEmpty();
    }

    @Test
    void aContainerInTheWrongStateChangesNothing() {
        FakeContainers f = three();
        String[] pause = run(f, "pause", "web-1", "a1b2");
        assertThat(pause[0]).isEqualTo("1");
        assertThat(pause[2]).isEqualTo("Error response from daemon: container a1b2 is not running (status exited)\n");
        String[] rm = run(f, "rm", "a1b2", "web-1");
        assertThat(rm[0]).isEqualTo("1");
        assertThat(rm[2]).startsWith("Error response from daemon: cannot remove container web-1: it is running: stop it first, or use 'berth rm -f'");
        assertThat(run(f, "unpause", "web-1")[2]).isEqualTo("Error response from daemon: container web-1 is not paused (status running)\n");
        assertThat(run(f, "kill", "a1b2")[2]).startsWith("Error response from daemon: cannot kill container a1b2: it is not running");
        assertThat(f.done).isEmpty();
    }

    @Test
    void actionsPrintTheNamesAsGiven() {
        FakeContainers f = three();
        String[] rm = run(f, "rm", "-f", "web-1", "a1b");
        assertThat(rm[0]).isEqualTo("0");
        assertThat(rm[1]).isEqualTo("web-1\na1b\n");
        assertThat(f.done).containsExactly("remove[true] web-1", "remove[true] a1b2c3d4e5f6");
        f.done.clear();
        assertThat(run(f, "pause", "web-1")[1]).isEqualTo("web-1\n");
        assertThat(run(f, "unpause", "web-2")[1]).isEqualTo("web-2\n");
        assertThat(run(f, "stop", "-t", "3", "web-1")[0]).isEqualTo("0");
        assertThat(f.done).containsExactly("pause web-1", "resume web-2", "stop[PT3S] web-1");
    }

    @Test
    void killTakesSignalNamesAndNumbers() {
        FakeContainers f = three();
        run(f, "kill", "web-1");
        run(f, "kill", "-s", "TERM", "web-1");
        run(f, "kill", "--signal", "sighup", "web-1");
        run(f, "kill", "-s", "10", "web-1");
        assertThat(f.done).containsExactly("signal[9] web-1", "signal[15] web-1", "signal[1] web-1", "signal[10] web-1");
        String[] bad = run(f, "kill", "-s", "SIGFOO", "web-1");
        assertThat(bad[0]).isEqualTo("125");
        assertThat(bad[2]).isEqualTo("berth: --signal: unknown signal \"SIGFOO\" (see 'berth kill --help')\n");
        assertThat(run(f, "kill", "-s", "65", "web-1")[0]).isEqualTo("125");
        assertThat(f.done).hasSize(4);
    }

    @Test
    void stopRefusesANegativeTime() {
        String[] r = run(three(), "stop", "-t", "-1", "web-1");
        assertThat(r[0]).isEqualTo("125");
        assertThat(r[2]).isEqualTo("berth: --time: must be >= 0, got -1 (see 'berth stop --help')\n");
    }

    @Test
    void psShowsDockersColumnsRunningOnlyUnlessAll() {
        String[] r = run(three(), "ps");
        assertThat(r[0]).isEqualTo("0");
        List<String> lines = r[1].lines().toList();
        assertThat(lines.get(0)).matches("CONTAINER ID +IMAGE +COMMAND +CREATED +STATUS +PORTS +NAMES");
        assertThat(lines).hasSize(3);
        assertThat(r[1]).contains("Up 5 minutes (Paused)").contains("Up 5 minutes").contains("10 minutes ago")
                .doesNotContain("Exited");
        String[] all = run(three(), "ps", "-a");
        assertThat(all[1].lines()).hasSize(4);
        assertThat(all[1]).contains("Exited (3) 3 minutes ago");
        // columns line up: STATUS starts at the same offset on every line
        int at = lines.get(0).indexOf("STATUS");
        assertThat(lines.subList(1, 3)).allSatisfy(l -> assertThat(l.substring(at)).startsWith("Up "));
        assertThat(run(three(), "ps", "-aq")[1]).isEqualTo("web-1\nweb-2\na1b2c3d4e5f6\n");
    }

    @Test
    void psFormatJsonIsOneObjectALine() throws Exception {
        String[] r = run(three(), "ps", "-a", "--format", "json");
        List<String> lines = r[1].lines().toList();
        assertThat(lines).hasSize(3);
        JsonNode first = new ObjectMapper().readTree(lines.get(0));
        assertThat(first.get("Names").asText()).isEqualTo("web-1");
        assertThat(first.get("State").asText()).isEqualTo("running");
        assertThat(first.get("Status").asText()).isEqualTo("Up 5 minutes");
        assertThat(run(three(), "ps", "--format", "yaml")[0]).isEqualTo("125");
    }

    @Test
    void statusAsDockerWritesIt() {
        ContainerInfo created = new ContainerInfo("c", ContainerStatus.CREATED, Optional.empty(), Optional.of("/r"),
                NOW, Optional.empty(), Optional.empty(), Optional.empty(), 0, ContainerInfo.Owner.THIS_RUNTIME);
        assertThat(PsCommand.status(created, NOW)).isEqualTo("Created");
        ContainerInfo killed = new ContainerInfo("c", ContainerStatus.EXITED, Optional.empty(), Optional.of("/r"),
                NOW.minusSeconds(7200), Optional.of(NOW.minusSeconds(7200)), Optional.of(NOW.minusSeconds(30)),
                Optional.of(ExitStatus.killed(9)), 0, ContainerInfo.Owner.NONE);
        assertThat(PsCommand.status(killed, NOW)).isEqualTo("Exited (137) 30 seconds ago");
        assertThat(PsCommand.shortId("0123456789abcdef0123")).isEqualTo("0123456789ab");
        assertThat(PsCommand.shortId("my-very-long-service-name")).isEqualTo("my-very-long-service-name");
        assertThat(PsCommand.truncate("sh -c 'while true; do echo; done'", 20)).isEqualTo("sh -c 'while true; …");
    }

    @Test
    void humanDurationsAsDockersUnitsPackage() {
        assertThat(HumanTime.duration(Duration.ofMillis(400))).isEqualTo("Less than a second");
        assertThat(HumanTime.duration(Duration.ofSeconds(1))).isEqualTo("1 second");
        assertThat(HumanTime.duration(Duration.ofSeconds(59))).isEqualTo("59 seconds");
        assertThat(HumanTime.duration(Duration.ofSeconds(61))).isEqualTo("About a minute");
        assertThat(HumanTime.duration(Duration.ofMinutes(5))).isEqualTo("5 minutes");
        assertThat(HumanTime.duration(Duration.ofMinutes(80))).isEqualTo("About an hour");
        assertThat(HumanTime.duration(Duration.ofHours(30))).isEqualTo("30 hours");
        assertThat(HumanTime.duration(Duration.ofDays(3))).isEqualTo("3 days");
        assertThat(HumanTime.duration(Duration.ofDays(20))).isEqualTo("2 weeks");
        assertThat(HumanTime.duration(Duration.ofDays(90))).isEqualTo("3 months");
        assertThat(HumanTime.duration(Duration.ofDays(800))).isEqualTo("2 years");
        assertThat(HumanTime.ago(NOW.plusSeconds(5), NOW)).as("a clock step").isEqualTo("Less than a second ago");
    }

    @Test
    void sinceTakesRfc3339DurationsAndUnixSeconds() {
        Instant now = Instant.parse("2026-12-02T02:00:00Z");
        assertThat(HumanTime.since("2026-12-02T01:00:00Z", now)).isEqualTo(Instant.parse("2026-12-02T01:00:00Z"));
        assertThat(HumanTime.since("2026-12-02T03:00:00+02:00", now)).isEqualTo(Instant.parse("2026-12-02T01:00:00Z"));
        assertThat(HumanTime.since("2026-12-02T01:00:00.123456789Z", now))
                .isEqualTo(Instant.parse("2026-12-02T01:00:00.123456789Z"));
        assertThat(HumanTime.since("10m", now)).isEqualTo(Instant.parse("2026-12-02T01:50:00Z"));
        assertThat(HumanTime.since("1h30m", now)).isEqualTo(Instant.parse("2026-12-02T00:30:00Z"));
        assertThat(HumanTime.since("1.5s", now)).isEqualTo(Instant.parse("2026-12-02T01:59:58.500Z"));
        assertThat(HumanTime.since("1764637200", now)).isEqualTo(Instant.ofEpochSecond(1764637200));
        assertThat(HumanTime.since("10", now)).as("Unix seconds, as docker reads it").isEqualTo(Instant.ofEpochSecond(10));
        for (String bad : new String[] {"yesterday", "10x", "-5m", "", "2026-13-01T00:00:00Z", "99999999999h"}) {
            assertThatThrownBy(() -> HumanTime.since(bad, now)).as(bad).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageStartingWith("--since: ");
        }
    }

    @Test
    void statsFiguresAsDockerComputesThem() {
        CgroupStats.Memory mem = new CgroupStats.Memory(64L << 20, 80L << 20, 256L << 20,
                Map.of("inactive_file", 16L << 20), Map.of());
        CgroupStats before = new CgroupStats(new CgroupStats.Cpu(1_000_000, -1, -1, -1, -1, -1), mem, 3, List.of(),
                CgroupStats.Pressure.NONE, CgroupStats.Pressure.NONE, CgroupStats.Pressure.NONE);
        CgroupStats now = new CgroupStats(new CgroupStats.Cpu(1_500_000, -1, -1, -1, -1, -1), mem, 3, List.of(),
                CgroupStats.Pressure.NONE, CgroupStats.Pressure.NONE, CgroupStats.Pressure.NONE);
        StatsFigures f = StatsFigures.of(before, now, Duration.ofSeconds(1), 8L << 30);
        assertThat(StatsFigures.percent(f.cpuPercent())).isEqualTo("50.00%");
        assertThat(f.memory()).isEqualTo("48MiB / 256MiB");
        assertThat(StatsFigures.percent(f.memPercent())).isEqualTo("18.75%");
        assertThat(f.pids()).isEqualTo(3);
        StatsFigures first = StatsFigures.of(null, now, Duration.ofSeconds(1), 8L << 30);
        assertThat(first.cpuPercent()).isZero();
        CgroupStats unlimited = new CgroupStats(CgroupStats.Cpu.NONE, new CgroupStats.Memory(1536L << 10, -1,
                CgroupStats.UNLIMITED, Map.of(), Map.of()), CgroupStats.UNAVAILABLE, List.of(), CgroupStats.Pressure.NONE,
                CgroupStats.Pressure.NONE, CgroupStats.Pressure.NONE);
        StatsFigures u = StatsFigures.of(null, unlimited, Duration.ofSeconds(1), 8L << 30);
        assertThat(u.memory()).as("no limit: the host's memory").isEqualTo("1.5MiB / 8GiB");
        assertThat(u.pids()).isZero();
        assertThat(StatsFigures.bytes(0)).isEqualTo("0B");
        assertThat(StatsFigures.bytes(512)).isEqualTo("512B");
        assertThat(StatsFigures.bytes(1_536_000)).isEqualTo("1.465MiB");
        assertThat(StatsFigures.bytes(8232337408L)).isEqualTo("7.667GiB");
    }

    @Test
    void statsNoStreamPrintsOneTable() {
        FakeContainers f = three();
        String[] r = run(f, "stats", "--no-stream", "web-1");
        assertThat(r[0]).isEqualTo("0");
        assertThat(r[1].lines().toList().get(0)).matches("CONTAINER ID +NAME +CPU % +MEM USAGE / LIMIT +MEM % +PIDS");
        assertThat(r[1]).doesNotContain("\033[2J").contains("web-1");
        assertThat(run(f, "stats", "--no-stream", "nope")[2]).isEqualTo("Error response from daemon: No such container: nope\n");
    }

    @Test
    void inspectIsAJsonArrayInDockersShape() throws Exception {
        String[] r = run(three(), "inspect", "web-2", "a1b2");
        assertThat(r[0]).isEqualTo("0");
        JsonNode a = new ObjectMapper().readTree(r[1]);
        assertThat(a.isArray()).isTrue();
        assertThat(a).hasSize(2);
        assertThat(a.get(0).get("Id").asText()).isEqualTo("web-2");
        assertThat(a.get(0).at("/State/Paused").asBoolean()).isTrue();
        assertThat(a.get(0).at("/State/Running").asBoolean()).isTrue();
        assertThat(a.get(1).at("/State/Status").asText()).isEqualTo("exited");
        assertThat(a.get(1).at("/State/ExitCode").asInt()).isEqualTo(3);
        assertThat(a.get(1).at("/State/Pid").asInt()).isZero();
        String[] missing = run(three(), "inspect", "web-2", "nope");
        assertThat(missing[0]).isEqualTo("1");
        assertThat(missing[1]).as("nothing printed when a name is missing").isEmpty();
    }

    @Test
    void waitPrintsEachExitCode() {
        FakeContainers f = three();
        String[] r = run(f, "wait", "web-1", "web-2");
        assertThat(r[0]).isEqualTo("0");
        assertThat(r[1]).isEqualTo("143\n143\n");
    }

    @Test
    void everyContainerCommandHasHelpAndNeedsAName() {
        for (String cmd : new String[] {"ps", "stop", "kill", "rm", "pause", "unpause", "stats", "inspect", "wait"}) {
            String[] r = run(three(), cmd, "--help");
            assertThat(r[0]).as(cmd).isEqualTo("0");
            assertThat(r[1]).as(cmd).startsWith("Usage: berth " + cmd).contains("--state-root");
        }
        for (String cmd : new String[] {"stop", "kill", "rm", "pause", "unpause", "inspect", "wait"}) {
            String[] r = run(three(), cmd);
            assertThat(r[0]).as(cmd).isEqualTo("125");
            assertThat(r[2]).as(cmd).startsWith("berth: Missing required parameter").endsWith("(see 'berth " + cmd
                    + " --help')\n");
        }
    }

    @Test
    void logsSplitTheStreamsAndPassTheQuery() {
        FakeContainers f = three();
        Instant t = Instant.parse("2026-12-02T01:02:03.000000450Z");
        f.log.add(new dev.berth.core.LogEntry(t, "stdout", "out 1"));
        f.log.add(new dev.berth.core.LogEntry(t, "stderr", "err 1"));
        f.log.add(new dev.berth.core.LogEntry(t, "stdout", ""));
        String[] r = run(f, "logs", "web");
        assertThat(r[0]).as("a prefix of web-1 only? no: web-1 and web-2").isEqualTo("1");
        assertThat(r[2]).startsWith("Error response from daemon: web is ambiguous");
        r = run(f, "logs", "--tail", "5", "--since", "10m", "-f", "web-1");
        assertThat(r[0]).as(r[2]).isEqualTo("0");
        assertThat(r[1]).isEqualTo("out 1\n\n");
        assertThat(r[2]).isEqualTo("err 1\n");
        assertThat(f.lastQuery.tail()).isEqualTo(5);
        assertThat(f.lastQuery.follow()).isTrue();
        assertThat(f.lastQuery.since().orElseThrow()).isBetween(Instant.now().minusSeconds(660), Instant.now().minusSeconds(540));
        assertThat(run(f, "logs", "-t", "web-1")[1]).isEqualTo("2026-12-02T01:02:03.000000450Z out 1\n"
                + "2026-12-02T01:02:03.000000450Z \n");
        String[] badTail = run(f, "logs", "--tail", "many", "web-1");
        assertThat(badTail[0]).isEqualTo("125");
        assertThat(badTail[2]).isEqualTo("berth: --tail: expected a number of lines or all, got \"many\" (see 'berth logs --help')\n");
        assertThat(run(f, "logs", "--tail", "-3", "web-1")[0]).isEqualTo("125");
        String[] badSince = run(f, "logs", "--since", "soon", "web-1");
        assertThat(badSince[0]).isEqualTo("125");
        assertThat(badSince[2]).startsWith("berth: --since: \"soon\" is not a time");
        assertThat(run(f, "logs", "--help")[1]).startsWith("Usage: berth logs");
    }

    /** A container as the state records it, with a command, health and restarts. */
    private static ContainerInfo recorded(String id, ContainerStatus status, List<String> command,
            Optional<dev.berth.core.HealthStatus> health, int restarts, Optional<ExitStatus> exit) {
        return new ContainerInfo(id, status, Optional.of("busybox:latest"), Optional.empty(),
                NOW.minus(Duration.ofMinutes(10)), Optional.of(NOW.minus(Duration.ofSeconds(5))),
                exit.map(e -> NOW.minus(Duration.ofSeconds(3))), exit, 4242, ContainerInfo.Owner.ANOTHER_RUNTIME,
                Optional.empty(), command, health, restarts);
    }

    /** A restarted container: CREATED is its first creation (the state keeps it across restarts), Up its last run's start. */
    @Test
    void psShowsARestartedContainersFirstCreationAsCreatedAndItsLastRunAsUp() {
        ContainerInfo restarted = recorded("web-9", ContainerStatus.RUNNING, List.of("httpd"), Optional.empty(), 3,
                Optional.empty());
        String table = PsCommand.table(List.of(restarted), NOW, true);
        assertThat(table.lines().toList().get(1)).contains("10 minutes ago").contains("Up 5 seconds");
        assertThat(PsCommand.json(restarted, NOW).get("CreatedAt").asText()).isEqualTo(NOW.minus(Duration.ofMinutes(10))
                .toString());
        assertThat(PsCommand.json(restarted, NOW).get("RunningFor").asText()).isEqualTo("10 minutes ago");
        assertThat(PsCommand.json(restarted, NOW).get("RestartCount").asInt()).isEqualTo(3);
    }

    @Test
    void psStatusSaysHealthRestartingAndAnyOtherStatusAsDockerDoes() {
        List<String> cmd = List.of("sh", "-c", "sleep 100");
        Optional<ExitStatus> none = Optional.empty();
        assertThat(PsCommand.status(recorded("a", ContainerStatus.RUNNING, cmd, Optional.of(dev.berth.core.HealthStatus.HEALTHY),
                0, none), NOW)).isEqualTo("Up 5 seconds (healthy)");
        assertThat(PsCommand.status(recorded("a", ContainerStatus.RUNNING, cmd,
                Optional.of(dev.berth.core.HealthStatus.STARTING), 0, none), NOW)).isEqualTo("Up 5 seconds (health: starting)");
        assertThat(PsCommand.status(recorded("a", ContainerStatus.RUNNING, cmd,
                Optional.of(dev.berth.core.HealthStatus.UNHEALTHY), 0, none), NOW)).isEqualTo("Up 5 seconds (unhealthy)");
        assertThat(PsCommand.status(recorded("a", ContainerStatus.PAUSED, cmd,
                Optional.of(dev.berth.core.HealthStatus.HEALTHY), 0, none), NOW)).isEqualTo("Up 5 seconds (Paused)");
        assertThat(PsCommand.status(recorded("a", ContainerStatus.EXITED, cmd,
                Optional.of(dev.berth.core.HealthStatus.UNHEALTHY), 2, Optional.of(ExitStatus.exited(1))), NOW))
                .as("no health once ended").isEqualTo("Exited (1) 3 seconds ago");
        // a status main does not have yet (RESTARTING) is mapped by its label: see PsCommand.status
        for (ContainerStatus st : ContainerStatus.values()) {
            assertThat(PsCommand.status(recorded("a", st, cmd, Optional.empty(), 0, Optional.of(ExitStatus.exited(1))), NOW))
                    .as(st.label()).isNotBlank().doesNotContain("null");
            if (st.label().equals("restarting")) {
                assertThat(PsCommand.status(recorded("a", st, cmd, Optional.empty(), 1, Optional.of(ExitStatus.exited(1))),
                        NOW)).isEqualTo("Restarting (1) 3 seconds ago");
            }
        }
    }

    @Test
    void psShowsTheQuotedCommandTruncatedUnlessNoTrunc() throws Exception {
        FakeContainers f = new FakeContainers();
        f.infos.add(recorded("0123456789abcdef0123", ContainerStatus.RUNNING,
                List.of("sh", "-c", "while true; do echo \"tick\"; sleep 1; done"),
                Optional.of(dev.berth.core.HealthStatus.HEALTHY), 2, Optional.empty()));
        String[] r = run(f, "ps");
        assertThat(r[0]).isEqualTo("0");
        String row = r[1].lines().toList().get(1);
        assertThat(row).startsWith("0123456789ab ").contains("\"sh -c 'while true; …\"").contains(" (healthy)");
        String whole = run(f, "ps", "--no-trunc")[1].lines().toList().get(1);
        assertThat(whole).startsWith("0123456789abcdef0123 ")
                .contains("\"sh -c 'while true; do echo \\\"tick\\\"; sleep 1; done'\"");
        assertThat(run(f, "ps", "-q", "--no-trunc")[1]).isEqualTo("0123456789abcdef0123\n");
        assertThat(run(f, "ps", "-q")[1]).isEqualTo("0123456789ab\n");
        JsonNode j = new ObjectMapper().readTree(run(f, "ps", "--format", "json")[1]);
        assertThat(j.get("Command").asText()).isEqualTo("\"sh -c 'while true; do echo \\\"tick\\\"; sleep 1; done'\"");
        assertThat(j.get("Status").asText()).startsWith("Up ").endsWith(" (healthy)");
        assertThat(j.get("Health").asText()).isEqualTo("healthy");
        assertThat(j.get("RestartCount").asInt()).isEqualTo(2);
        assertThat(j.get("CreatedAt").asText()).isEqualTo(NOW.minus(Duration.ofMinutes(10)).toString());
        assertThat(j.get("Ports").asText()).isEmpty();
        assertThat(PsCommand.quote("a\tb\u0001")).isEqualTo("\"a\\tb\\x01\"");
    }

    @Test
    void psJsonShowsThePublishedPorts() throws Exception {
        FakeContainers f = new FakeContainers();
        ContainerInfo i = recorded("web", ContainerStatus.RUNNING, List.of("httpd"), Optional.empty(), 0, Optional.empty())
                .withNetwork(Optional.of(new dev.berth.core.NetworkInfo("bridge", List.of("10.88.0.2/16"), List.of(),
                        "", List.of(dev.berth.network.PortMapping.parse("127.0.0.1:8080:80")), List.of())));
        f.infos.add(i);
        JsonNode j = new ObjectMapper().readTree(run(f, "ps", "--format", "json")[1]);
        assertThat(j.get("Ports").asText()).isEqualTo("127.0.0.1:8080->80/tcp");
        assertThat(j.get("Health").asText()).as("no health check").isEmpty();
        assertThat(run(f, "ps")[1]).contains("127.0.0.1:8080->80/tcp");
    }

    @Test
    void inspectShowsTheCommandHealthAndRestarts() throws Exception {
        FakeContainers f = new FakeContainers();
        f.infos.add(recorded("svc", ContainerStatus.RUNNING, List.of("sh", "-c", "sleep 100"),
                Optional.of(dev.berth.core.HealthStatus.UNHEALTHY), 4, Optional.empty()));
        JsonNode o = new ObjectMapper().readTree(run(f, "inspect", "svc")[1]).get(0);
        assertThat(o.get("Path").asText()).isEqualTo("sh");
        assertThat(o.get("Args")).extracting(JsonNode::asText).containsExactly("-c", "sleep 100");
        assertThat(o.at("/State/Health/Status").asText()).isEqualTo("unhealthy");
        assertThat(o.get("RestartCount").asInt()).isEqualTo(4);
        JsonNode plain = new ObjectMapper().readTree(run(three(), "inspect", "web-1")[1]).get(0);
        assertThat(plain.has("Path")).as("a state without a recorded command").isFalse();
        assertThat(plain.at("/State/Health").isMissingNode()).isTrue();
    }

    /** podman's HostConfig.UsernsMode and IDMappings, from the user namespace the state recorded. */
    @Test
    void inspectShowsTheUserNamespaceAsPodmanDoes() throws Exception {
        FakeContainers f = new FakeContainers();
        UserNamespace rootless = UserNamespace.of(
                List.of(dev.berth.core.IdMapping.of(0, 1002, 1), dev.berth.core.IdMapping.of(1, 165536, 65536)),
                List.of(dev.berth.core.IdMapping.of(0, 1002, 1), dev.berth.core.IdMapping.of(1, 200000, 4096)));
        for (var e : java.util.Map.of("mapped", Optional.of(rootless), "host", Optional.of(UserNamespace.host()),
                "older", Optional.<UserNamespace>empty()).entrySet()) {
            f.infos.add(new ContainerInfo(e.getKey(), ContainerStatus.RUNNING, Optional.of("busybox:latest"),
                    Optional.empty(), NOW, Optional.of(NOW), Optional.empty(), Optional.empty(), 4242,
                    ContainerInfo.Owner.DETACHED, Optional.empty(), List.of("sh"), Optional.empty(), 0, e.getValue()));
        }
        JsonNode mapped = new ObjectMapper().readTree(run(f, "inspect", "mapped")[1]).get(0);
        assertThat(mapped.at("/HostConfig/UsernsMode").asText()).isEqualTo("private");
        assertThat(mapped.at("/HostConfig/IDMappings/UidMap")).extracting(JsonNode::asText)
                .containsExactly("0:1002:1", "1:165536:65536");
        assertThat(mapped.at("/HostConfig/IDMappings/GidMap")).extracting(JsonNode::asText)
                .containsExactly("0:1002:1", "1:200000:4096");
        JsonNode host = new ObjectMapper().readTree(run(f, "inspect", "host")[1]).get(0);
        assertThat(host.at("/HostConfig/UsernsMode").asText()).isEqualTo("host");
        assertThat(host.at("/HostConfig/IDMappings").isMissingNode()).as("no maps without a namespace").isTrue();
        JsonNode older = new ObjectMapper().readTree(run(f, "inspect", "older")[1]).get(0);
        assertThat(older.has("HostConfig")).as("a state that does not say: nothing claimed").isFalse();
        assertThat(older.get("Id").asText()).isEqualTo("older");
    }

    @Test
    void globalOptionsGoBeforeOrAfterTheCommand() {
        FakeContainers f = three();
        assertThat(run(f, "--state-root", "/s1", "--root", "/r1", "ps")[0]).isEqualTo("0");
        assertThat(f.roots).containsExactly(java.nio.file.Path.of("/s1"), java.nio.file.Path.of("/r1"));
        assertThat(run(f, "ps", "--state-root", "/s2", "--root", "/r2", "-a")[0]).isEqualTo("0");
        assertThat(f.roots).containsExactly(java.nio.file.Path.of("/s2"), java.nio.file.Path.of("/r2"));
        assertThat(run(f, "--root", "/r3", "stop", "--state-root", "/s3", "web-1")[0]).isEqualTo("0");
        assertThat(f.roots).containsExactly(java.nio.file.Path.of("/s3"), java.nio.file.Path.of("/r3"));
        assertThat(run(f, "ps")[0]).isEqualTo("0");
        assertThat(f.roots).as("defaults").containsExactly(java.nio.file.Path.of("/run/berth"),
                java.nio.file.Path.of("/var/lib/berth"));
        assertThat(run(f, "--log-level", "debug", "ps")[0]).isEqualTo("0");
        assertThat(run(f, "ps", "--log-level", "WARN")[0]).isEqualTo("0");
        String[] bad = run(f, "--log-level", "loud", "ps");
        assertThat(bad[0]).isEqualTo("125");
        assertThat(bad[2]).isEqualTo("berth: --log-level: \"loud\" is not a level (debug, info, warn, error, fatal)"
                + " (see 'berth --help')\n");
        assertThat(run(f, "ps", "--log-level", "loud")[2]).as("a global option's help is berth's")
                .isEqualTo(bad[2]);
    }

    @Test
    void usageErrorsExit125InOneLineWithAHint() {
        FakeContainers f = three();
        for (String[] argv : new String[][] {{"ps", "--bogus"}, {"stop", "-t", "x", "web-1"}, {"stop"}, {"--bogus"},
            {"nosuchcommand"}, {"logs", "--tail"}, {"volume"}, {"network"}, {}}) {
            String[] r = run(f, argv);
            assertThat(r[0]).as(String.join(" ", argv)).isEqualTo("125");
            assertThat(r[2]).as(String.join(" ", argv)).startsWith("berth: ").hasLineCount(1).contains("--help')");
            assertThat(r[1]).as("no usage printed").isEmpty();
        }
        assertThat(f.done).isEmpty();
        assertThat(run(f, "volume")[2]).startsWith("berth: 'berth volume' needs a command: create, ls, inspect, rm");
    }
}
