package dev.berth.examples.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.berth.examples.cli.Launcher.Outcome;
import dev.berth.testing.Preconditions;
import dev.berth.testing.RequiresRoot;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * A busybox image run as docker users type it: without {@code --} before the command, and as a
 * detached service that separate {@code berth} processes list, follow, enter, pause, stop and
 * remove.
 */
@RequiresRoot
class ContainerLauncherIT {
    @TempDir
    static Path tmp;
    @RegisterExtension
    static final Launcher BERTH = new Launcher();
    private static String store;
    private static String state;
    private static final String IMAGE = "cli/busybox:1";
    /** Container names of this run only. */
    private static final String LISTED = BERTH.name("cli-listed");
    private static final String SVC = BERTH.name("cli-svc");
    private static final String ONCE = BERTH.name("cli-once");

    private static Outcome berth(String... args) throws IOException, InterruptedException {
        return BERTH.run(args);
    }

    /** An OCI image of the host's static busybox, its applets linked, imported into a fresh store. */
    @BeforeAll
    static void importBusybox() throws Exception {
        Preconditions.requireTool("umoci", "umoci");
        Path busybox = Path.of("/usr/bin/busybox");
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.isExecutable(busybox), "busybox-static is not installed");
        store = BERTH.storageRoot().toString();
        state = BERTH.stateRoot().toString();
        sh("umoci", "init", "--layout", "L");
        sh("umoci", "new", "--image", "L:t");
        sh("umoci", "unpack", "--image", "L:t", "B");
        Path root = tmp.resolve("B/rootfs");
        Files.createDirectories(root.resolve("bin"));
        Files.createDirectories(root.resolve("tmp"));
        Files.copy(busybox, root.resolve("bin/busybox"));
        for (String applet : new String[] {"sh", "echo", "cat", "ls", "sleep", "seq", "id", "true", "hostname", "test",
            "touch"}) {
            Files.createSymbolicLink(root.resolve("bin/" + applet), Path.of("busybox"));
        }
        sh("umoci", "repack", "--image", "L:t", "B");
        sh("umoci", "config", "--image", "L:t", "--config.cmd", "sh", "--config.env", "PATH=/bin");
        Outcome imported = berth("import", tmp.resolve("L").toString(), "--name", IMAGE);
        assertThat(imported.code()).as(imported.err()).isZero();
    }

    private static void sh(String... cmd) throws IOException, InterruptedException {
        Launcher.sh(tmp, cmd);
    }

    @Test
    void theCommandsOwnOptionsNeedNoDoubleDash() throws Exception {
        Outcome shell = berth("run", "--rm", IMAGE, "sh", "-c", "echo hi; echo there >&2; exit 3");
        assertThat(shell.code()).isEqualTo(3);
        assertThat(shell.out()).isEqualTo("hi\n");
        assertThat(shell.err()).isEqualTo("there\n");
        Outcome flags = berth("run", "--rm", IMAGE, "ls", "-1d", "/bin", "/tmp");
        assertThat(flags.code()).as(flags.err()).isZero();
        assertThat(flags.out()).isEqualTo("/bin\n/tmp\n");
        Outcome options = berth("run", "--rm", "-e", "X=1", IMAGE, "sh", "-c", "echo $X", "-e", "ignored");
        assertThat(options.out()).as("-e after the image is the command's").isEqualTo("1\n");
    }

    @Test
    void anotherBerthsContainerIsListedAndInspectedAndUnknownNamesChangeNothing() throws Exception {
        Process run = new ProcessBuilder(BERTH.command("run", "--name", LISTED, IMAGE, "sleep", "120"))
                .redirectErrorStream(true).start();
        try {
            Path ready = Path.of(state, LISTED, "exec.json"); // written once the target runs
            for (int i = 0; i < 1000 && !Files.exists(ready); i++) {
                Thread.sleep(20);
            }
            Outcome ps = berth("ps");
            assertThat(ps.code()).as(ps.err()).isZero();
            List<String> lines = ps.out().lines().toList();
            assertThat(lines.get(0)).matches("CONTAINER ID +IMAGE +COMMAND +CREATED +STATUS +PORTS +NAMES");
            assertThat(lines).anySatisfy(l -> assertThat(l).startsWith(LISTED + " ").contains(IMAGE).contains("Up ")
                    .endsWith(LISTED));
            assertThat(berth("ps", "-q").out()).contains(LISTED + "\n");
            JsonNode inspect = new ObjectMapper().readTree(berth("inspect", "cli-list").out());
            assertThat(inspect.get(0).get("Id").asText()).as("a unique prefix finds it").isEqualTo(LISTED);
            assertThat(inspect.get(0).at("/State/Running").asBoolean()).isTrue();
            assertThat(inspect.get(0).at("/State/Pid").asLong()).isPositive();
            Outcome unknown = berth("stop", LISTED, "nope");
            assertThat(unknown.code()).isEqualTo(1);
            assertThat(unknown.err()).isEqualTo("Error response from daemon: No such container: nope\n");
            assertThat(unknown.out()).isEmpty();
            assertThat(run.isAlive()).as("stop with an unknown name stopped nothing").isTrue();
            Outcome rm = berth("rm", LISTED);
            assertThat(rm.code()).isEqualTo(1);
            assertThat(rm.err()).startsWith("Error response from daemon: cannot remove container " + LISTED + ": it is running");
            assertThat(run.isAlive()).isTrue();
        } finally {
            run.destroy(); // SIGTERM: the launcher forwards it, the container ends and is removed
            assertThat(run.waitFor(30, TimeUnit.SECONDS)).isTrue();
        }
        assertThat(berth("ps", "-a").out().lines()).hasSize(1);
    }

    /** A counter service, started, listed, followed, entered, paused, stopped and removed by separate berth processes. */
    @Test
    void aDetachedServiceIsManagedBySeparateBerthProcesses() throws Exception {
        Outcome started = berth("run", "-d", "--name", SVC, "--log-max-size", "64k", "--log-max-files", "3", IMAGE,
                "sh", "-c", "i=0; while true; do echo line $i; echo err $i >&2; i=$((i+1)); sleep 0.05; done");
        assertThat(started.code()).as(started.err()).isZero();
        assertThat(started.out()).isEqualTo(SVC + "\n");
        try {
            Outcome ps = berth("ps");
            assertThat(ps.out().lines()).anySatisfy(l -> assertThat(l).startsWith(SVC + " ").contains(IMAGE).contains("Up "));
            Thread.sleep(500);

            // logs: stdout lines to stdout, stderr lines to stderr, in order, without gaps
            Outcome logs = berth("logs", SVC);
            assertThat(logs.code()).as(logs.err()).isZero();
            assertThat(logs.out()).startsWith("line 0\nline 1\n");
            assertNoGaps(logs.out().lines().toList(), "line ");
            assertThat(logs.err()).startsWith("err 0\nerr 1\n");
            Outcome tail = berth("logs", "--tail", "4", SVC); // the last 4 lines of both streams, as docker's
            assertThat(tail.out().lines().count() + tail.err().lines().count()).isEqualTo(4);
            assertThat(tail.out().lines()).hasSize(2);
            assertThat(berth("logs", "-t", "--tail", "2", "cli-sv").out())
                    .matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{9}Z line \\d+\\n");
            assertThat(berth("logs", "--since", "1h", SVC).out()).startsWith("line 0\n");
            Outcome badSince = berth("logs", "--since", "yesterday", SVC);
            assertThat(badSince.code()).isEqualTo(125);
            assertThat(badSince.err()).startsWith("berth: --since: \"yesterday\" is not a time");

            // logs -f: follows the counter as it grows, in another process, with no line missing
            Process follow = new ProcessBuilder(BERTH.command("logs", "-f", "--tail", "0", SVC))
                    .redirectError(ProcessBuilder.Redirect.DISCARD).start();
            List<String> followed = new ArrayList<>();
            try (BufferedReader r = new BufferedReader(new InputStreamReader(follow.getInputStream(), StandardCharsets.UTF_8))) {
                for (int i = 0; i < 20; i++) {
                    String line = r.readLine();
                    assertThat(line).as("line %d of the follow", i).isNotNull();
                    followed.add(line);
                }
            } finally {
                follow.destroy();
                follow.waitFor(10, TimeUnit.SECONDS);
            }
            assertNoGaps(followed, "line ");

            // exec into it
            Outcome exec = berth("exec", SVC, "sh", "-c", "echo inside $(hostname)");
            assertThat(exec.code()).as(exec.err()).isZero();
            assertThat(exec.out()).isEqualTo("inside " + SVC + "\n");

            // pause stops the counter; unpause lets it go on
            assertThat(berth("pause", SVC).out()).isEqualTo(SVC + "\n");
            assertThat(berth("ps").out()).contains("(Paused)");
            int paused = lastCount(berth("logs", "--tail", "2", SVC).out());
            Thread.sleep(600);
            assertThat(lastCount(berth("logs", "--tail", "2", SVC).out())).as("no line while paused").isEqualTo(paused);
            Outcome again = berth("pause", SVC);
            assertThat(again.code()).isEqualTo(1);
            assertThat(again.err()).isEqualTo("Error response from daemon: container " + SVC + " is already paused\n");
            assertThat(berth("unpause", SVC).out()).isEqualTo(SVC + "\n");
            Thread.sleep(600);
            assertThat(lastCount(berth("logs", "--tail", "2", SVC).out())).isGreaterThan(paused);

            Outcome stats = berth("stats", "--no-stream", SVC);
            assertThat(stats.code()).as(stats.err()).isZero();
            assertThat(stats.out().lines().toList().get(1)).startsWith(SVC + " ").containsPattern("\\d+\\.\\d\\d%")
                    .containsPattern("[\\d.]+[KMG]?i?B / [\\d.]+[KMGT]iB");
            JsonNode inspect = new ObjectMapper().readTree(berth("inspect", SVC).out());
            assertThat(inspect.get(0).at("/State/Running").asBoolean()).isTrue();
            assertThat(inspect.get(0).get("Owner").asText()).isEqualTo("detached");

            Outcome rmRunning = berth("rm", SVC);
            assertThat(rmRunning.code()).isEqualTo(1);
            assertThat(berth("ps", "-q").out()).contains(SVC);

            // stop (sh gets SIGTERM and dies of it), wait gives its code, ps -a shows it exited
            Process waiting = new ProcessBuilder(BERTH.command("wait", SVC)).start();
            Outcome stop = berth("stop", "-t", "5", SVC);
            assertThat(stop.code()).as(stop.err()).isZero();
            assertThat(stop.out()).isEqualTo(SVC + "\n");
            assertThat(waiting.waitFor(30, TimeUnit.SECONDS)).isTrue();
            assertThat(new String(waiting.getInputStream().readAllBytes(), StandardCharsets.UTF_8)).isEqualTo("143\n");
            assertThat(berth("ps").out()).doesNotContain(SVC);
            assertThat(berth("ps", "-a").out()).contains("Exited (143)");
            assertThat(berth("logs", SVC).out()).as("the log stays until rm").startsWith("line 0\n");
            assertThat(berth("wait", SVC).out()).isEqualTo("143\n");
        } finally {
            Outcome rm = berth("rm", "-f", SVC);
            assertThat(rm.code()).as(rm.err()).isZero();
            assertThat(rm.out()).isEqualTo(SVC + "\n");
        }
        assertThat(berth("ps", "-a").out()).doesNotContain(SVC);
        assertThat(Path.of(state, SVC)).doesNotExist();
        assertThat(Path.of(store, "containers", SVC)).doesNotExist();
        Outcome gone = berth("logs", SVC);
        assertThat(gone.code()).isEqualTo(1);
        assertThat(gone.err()).isEqualTo("Error response from daemon: No such container: " + SVC + "\n");
    }

    @Test
    void aDetachedContainerWithRmIsRemovedOnceItEnded() throws Exception {
        Outcome started = berth("run", "-d", "--rm", "--name", ONCE, IMAGE, "sh", "-c", "echo done");
        assertThat(started.code()).as(started.err()).isZero();
        for (int i = 0; i < 200 && berth("ps", "-aq").out().contains(ONCE); i++) {
            Thread.sleep(100);
        }
        assertThat(berth("ps", "-aq").out()).doesNotContain(ONCE);
        Outcome bad = berth("run", "-d", "-t", IMAGE, "sh");
        assertThat(bad.code()).isEqualTo(125);
        assertThat(bad.err()).startsWith("berth: -t: a detached container has no terminal").endsWith("(see 'berth run --help')\n");
        Outcome noD = berth("run", "--log-max-size", "1m", IMAGE, "true");
        assertThat(noD.code()).isEqualTo(125);
        assertThat(noD.err()).startsWith("berth: --log-max-size: only with -d");
        Outcome small = berth("run", "-d", "--log-max-size", "1k", IMAGE, "true");
        assertThat(small.code()).isEqualTo(125);
        assertThat(small.err()).startsWith("berth: --log-max-size: 1024 bytes; at least 4096");
    }

    /** docker's build-then-copy: a detached job ends, and later berth processes copy its output out, and in. */
    @Test
    void anEndedDetachedContainersFilesAreCopiedOutAndInByLaterBerths() throws Exception {
        String job = BERTH.name("cli-job");
        Outcome started = berth("run", "-d", "--network", "none", "--name", job, IMAGE, "sh", "-c",
                "echo artifact > /tmp/out.txt");
        assertThat(started.code()).as(started.err()).isZero();
        try {
            Outcome waited = berth("wait", job);
            assertThat(waited.out()).as(waited.err()).isEqualTo("0\n");
            Path out = tmp.resolve(job + ".txt");
            Outcome cp = berth("cp", job + ":/tmp/out.txt", out.toString());
            assertThat(cp.code()).as(cp.err()).isZero();
            assertThat(out).hasContent("artifact");
            Path in = Files.writeString(tmp.resolve(job + "-in.txt"), "back in\n");
            Outcome cpIn = berth("cp", in.toString(), job + ":/tmp/in.txt");
            assertThat(cpIn.code()).as(cpIn.err()).isZero();
            Outcome tar = berth("cp", job + ":/tmp/in.txt", "-");
            assertThat(tar.code()).as(tar.err()).isZero();
            assertThat(tar.out()).startsWith("in.txt").contains("back in");
            Outcome missing = berth("cp", job + ":/no/such", tmp.resolve("x").toString());
            assertThat(missing.code()).isEqualTo(1);
            assertThat(missing.err()).isEqualTo("berth: cp: /no/such: no such file or directory in container " + job + "\n");
        } finally {
            assertThat(berth("rm", job).code()).isZero();
        }
    }

    /** {@code berth ps -a --format json}'s object of container {@code id}, or null. */
    private static JsonNode psJson(String id) throws Exception {
        Outcome ps = berth("ps", "-a", "--format", "json");
        assertThat(ps.code()).as(ps.err()).isZero();
        for (String line : ps.out().lines().toList()) {
            JsonNode o = new ObjectMapper().readTree(line);
            if (o.get("Names").asText().equals(id)) {
                return o;
            }
        }
        return null;
    }

    /**
     * Health checks and restarts are done by the berth process that runs the container: {@code berth run}
     * without -d supervises it, and other berth processes see what it records (health, restart count).
     */
    @Test
    void anAttachedRunChecksHealthAndRestartsAndPsShowsItFromAnotherProcess() throws Exception {
        String id = BERTH.name("cli-health");
        // the first run is healthy for 10 s, then fails; the restart (its writable layer kept) fails after 6 s
        String script = "if [ -f /tmp/ran ]; then sleep 6; exit 3; fi; touch /tmp/ran /tmp/ok; sleep 10; exit 3";
        String command = "sh -c '" + script + "'";
        Process run = new ProcessBuilder(BERTH.command("run", "--network", "none", "--name", id, "--restart",
                "on-failure:1", "--health-cmd", "test -f /tmp/ok", "--health-interval", "500ms", "--health-retries", "1",
                IMAGE, "sh", "-c", script)).redirectErrorStream(true).start();
        try {
            JsonNode healthy = null;
            for (int i = 0; i < 100 && (healthy == null || !healthy.get("Health").asText().equals("healthy")); i++) {
                healthy = psJson(id);
                Thread.sleep(100);
            }
            assertThat(healthy).as("ps --format json lists " + id).isNotNull();
            assertThat(healthy.get("Health").asText()).isEqualTo("healthy");
            assertThat(healthy.get("Status").asText()).startsWith("Up ").endsWith(" (healthy)");
            assertThat(healthy.get("Command").asText()).isEqualTo(PsCommand.quote(command));
            assertThat(healthy.get("CreatedAt").asText()).isNotEmpty();
            Outcome table = berth("ps", "-a");
            assertThat(table.out().lines()).anySatisfy(l -> assertThat(l).startsWith(id + " ")
                    .contains(PsCommand.quote(PsCommand.truncate(command, 20))).contains("(healthy)"));
            assertThat(PsCommand.truncate(command, 20)).isEqualTo("sh -c 'if [ -f /tmp…");
            assertThat(berth("ps", "-a", "--no-trunc").out()).contains(PsCommand.quote(command));

            // it exits 3: on-failure:1 starts it once more; ps sees the restart, and lists the container
            // throughout (restarting from the first run's end to the second's exec), with its first CREATED
            JsonNode restarted = healthy;
            for (int i = 0; i < 150 && run.isAlive() && restarted.get("RestartCount").asInt() < 1; i++) {
                Thread.sleep(100);
                JsonNode now = psJson(id);
                assertThat(now).as("ps lists " + id + " while it restarts").isNotNull();
                assertThat(now.get("State").asText()).isIn("running", "restarting");
                restarted = now;
            }
            assertThat(restarted.get("RestartCount").asInt()).as("seen by ps while the restart ran").isEqualTo(1);
            assertThat(restarted.get("CreatedAt").asText()).isEqualTo(healthy.get("CreatedAt").asText());
            // the second run ends with 3 too, and no more restarts: berth run passes its code through
            assertThat(run.waitFor(60, TimeUnit.SECONDS)).isTrue();
            assertThat(run.exitValue()).as(new String(run.getInputStream().readAllBytes(), StandardCharsets.UTF_8))
                    .isEqualTo(3);
        } finally {
            run.destroy();
            run.waitFor(30, TimeUnit.SECONDS);
        }
        assertThat(psJson(id)).as("an attached container is removed as it ends").isNull();

        // with a restart policy, SIGTERM to berth run is a stop: not passed on (and the target restarted)
        String always = BERTH.name("cli-always");
        Process service = new ProcessBuilder(BERTH.command("run", "--network", "none", "--name", always, "--restart", "always",
                IMAGE, "sleep", "100"))
                .redirectErrorStream(true).start();
        try {
            for (int i = 0; i < 100 && psJson(always) == null; i++) {
                Thread.sleep(100);
            }
            assertThat(psJson(always)).isNotNull();
            service.destroy();
            assertThat(service.waitFor(30, TimeUnit.SECONDS)).as("stopped for good, not restarted").isTrue();
            assertThat(service.exitValue()).isEqualTo(143);
        } finally {
            service.destroyForcibly();
            service.waitFor(30, TimeUnit.SECONDS);
        }
        assertThat(psJson(always)).isNull();
    }

    /**
     * After {@code run -d} has exited, no berth process runs the checks or the restarts (docs/api.md,
     * "The launcher"): ps shows the command and the health recorded when it started.
     */
    @Test
    void aDetachedRunRecordsItsHealthCheckAndPsShowsItsCommand() throws Exception {
        String id = BERTH.name("cli-dhealth");
        Outcome started = berth("run", "-d", "--network", "none", "--name", id, "--restart", "on-failure:3",
                "--health-cmd", "test -f /tmp/ok", "--health-interval", "1s", IMAGE, "sh", "-c", "touch /tmp/ok; sleep 100");
        assertThat(started.code()).as(started.err()).isZero();
        try {
            JsonNode o = psJson(id);
            assertThat(o).isNotNull();
            assertThat(o.get("Command").asText()).isEqualTo("\"sh -c 'touch /tmp/ok; sleep 100'\"");
            assertThat(o.get("State").asText()).isEqualTo("running");
            assertThat(o.get("Health").asText()).isIn("starting", "healthy");
            assertThat(o.get("Status").asText()).startsWith("Up ").containsAnyOf("(health: starting)", "(healthy)");
            assertThat(o.get("RestartCount").asInt()).isZero();
            Outcome conflicting = berth("run", "-d", "--rm", "--restart", "always", IMAGE, "true");
            assertThat(conflicting.code()).isEqualTo(125);
            assertThat(conflicting.err()).isEqualTo("berth: Conflicting options: --restart and --rm"
                    + " (see 'berth run --help')\n");
        } finally {
            Outcome rm = berth("rm", "-f", id);
            assertThat(rm.code()).as(rm.err()).isZero();
        }
        assertThat(psJson(id)).isNull();
    }

    /** Global options before the command (docker's and podman's place), after it, and docker's exit codes. */
    @Test
    void globalOptionsGoEitherSideAndExitCodesAreDockers() throws Exception {
        String launcher = System.getProperty("berth.launcher");
        Process before = new ProcessBuilder(launcher, "--root", store, "--state-root", state, "--log-level", "error",
                "images").redirectErrorStream(true).start();
        String listed = new String(before.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(before.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(before.exitValue()).as(listed).isZero();
        assertThat(listed).contains(IMAGE);
        Outcome after = berth("images", "--root", store, "--state-root", state, "--log-level", "warn");
        assertThat(after.out()).contains(IMAGE);
        Outcome badLevel = berth("images", "--log-level", "chatty");
        assertThat(badLevel.code()).isEqualTo(125);
        assertThat(badLevel.err()).hasLineCount(1).startsWith("berth: --log-level: \"chatty\" is not a level");
        Outcome unknownFlag = berth("run", "--frobnicate", IMAGE, "true");
        assertThat(unknownFlag.code()).isEqualTo(125);
        assertThat(unknownFlag.err()).isEqualTo("berth: Unknown option: '--frobnicate' (see 'berth run --help')\n");
        assertThat(berth("run", "--rm", "--network", "none", IMAGE, "sh", "-c", "exit 42").code()).isEqualTo(42);
        Outcome notFound = berth("run", "--rm", "--network", "none", IMAGE, "nosuchcommand");
        assertThat(notFound.code()).as(notFound.err()).isEqualTo(127);
        Outcome notExecutable = berth("run", "--rm", "--network", "none", IMAGE, "/tmp");
        assertThat(notExecutable.code()).as(notExecutable.err()).isEqualTo(126);
        Outcome noSuch = berth("stop", "cli-nosuch");
        assertThat(noSuch.code()).isEqualTo(1);
        assertThat(noSuch.err()).isEqualTo("Error response from daemon: No such container: cli-nosuch\n");
    }

    private static void assertNoGaps(List<String> lines, String prefix) {
        List<Integer> n = lines.stream().filter(l -> l.startsWith(prefix))
                .map(l -> Integer.parseInt(l.substring(prefix.length()))).toList();
        assertThat(n).isNotEmpty();
        for (int i = 1; i < n.size(); i++) {
            assertThat(n.get(i)).as("after %d", n.get(i - 1)).isEqualTo(n.get(i - 1) + 1);
        }
    }

    private static int lastCount(String out) {
        String last = out.strip().lines().reduce((a, b) -> b).orElseThrow();
        return Integer.parseInt(last.substring("line ".length()));
    }
}
