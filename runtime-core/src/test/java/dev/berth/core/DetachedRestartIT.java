package dev.berth.core;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.berth.core.testing.TempRootsSupport;
import dev.berth.testing.RequiresCgroups;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Restart policies of detached containers whose starter let go of them: the monitor's exit command
 * (a JVM of {@link ExitCommand}) settles each exit and restarts per policy, with the backoff, under
 * the container's supervisor lease; an explicit stop from any process ends it for good.
 */
@RequiresCgroups
class DetachedRestartIT extends TempRootsSupport {
    private static final ObjectMapper JSON = new ObjectMapper();

    DetachedRestartIT() {
        super("dr", Duration.ofMillis(1500));
    }

    private ContainerSpec.Builder shell(String script) {
        return ContainerSpec.builder().rootfs(rootfs).command("/bin/sh", "-c", script).detached(true);
    }

    private JsonNode state(String id) throws IOException {
        Path f = stateRoot.resolve(id).resolve("state.json");
        for (int i = 0; ; i++) {
            try {
                return JSON.readTree(f.toFile());
            } catch (IOException e) {
                if (i > 20) {
                    throw e;
                }
            }
        }
    }

    private String exitCommandLog(String id) throws IOException {
        Path f = stateRoot.resolve(id).resolve("exit-command.log");
        return Files.exists(f) ? Files.readString(f) : "";
    }

    private static boolean alive(JsonNode procDoc) {
        if (procDoc == null || procDoc.isMissingNode() || procDoc.isNull()) {
            return false;
        }
        // a zombie has ended: its new parent (after the monitor's double fork) reaps it in its own time
        return dev.berth.core.internal.state.Reconciler.isLive(new dev.berth.core.internal.state.ProcessId(
                procDoc.get("pid").asLong(), procDoc.get("startTime").asLong()));
    }

    /** Polls the state: each run's (restart count, started, finished) as they go by. */
    private Map<Integer, Instant[]> followRuns(String id, int until, Duration within) throws Exception {
        Map<Integer, Instant[]> runs = new LinkedHashMap<>();
        long deadline = System.nanoTime() + within.toNanos();
        while (System.nanoTime() < deadline) {
            JsonNode s = state(id);
            int count = s.path("restartCount").asInt();
            Instant[] r = runs.computeIfAbsent(count, k -> new Instant[2]);
            if (s.hasNonNull("started")) {
                r[0] = Instant.parse(s.get("started").asText());
            }
            if (s.hasNonNull("finished") && !s.path("status").asText().equals("running")) {
                r[1] = Instant.parse(s.get("finished").asText());
            }
            if (count >= until && r[0] != null) {
                return runs;
            }
            Thread.sleep(10);
        }
        Path rec = stateRoot.resolve(id).resolve("restart.json");
        throw new AssertionError("restart.json " + (Files.exists(rec) ? Files.readString(rec) : "none") + "; no restart " + until + " of " + id + " within " + within + "; runs " + runs.keySet()
                + "; state " + state(id) + "; exit command: " + exitCommandLog(id));
    }

    @Test
    void anAlwaysContainerLetGoOfIsRestartedWithAGrowingBackoffUntilAStopFromAnotherRuntime() throws Exception {
        String id = id("always");
        ContainerRuntime first = runtime();
        first.start(id, shell("i=0; while [ $i -lt 3 ]; do echo $i; i=$((i+1)); sleep 0.05; done; exit 1")
                .restart(RestartPolicy.always()).build());
        first.close(); // the starter lets go: from now on the exit command restarts it

        Map<Integer, Instant[]> runs = followRuns(id, 4, Duration.ofSeconds(90));
        // each gap between a run's end and the next start is at least that restart's backoff
        long expected = 100;
        for (int n = 1; n <= 4; n++) {
            Instant[] before = runs.get(n - 1);
            Instant[] after = runs.get(n);
            if (before != null && after != null && before[1] != null && after[0] != null) {
                assertThat(Duration.between(before[1], after[0]).toMillis()).as("gap before restart %d", n)
                        .isGreaterThanOrEqualTo(expected - 20); // the exit file's mtime has coarse granularity
            }
            expected *= 2;
        }
        JsonNode restart = JSON.readTree(stateRoot.resolve(id).resolve("restart.json").toFile());
        assertThat(restart.get("streak").asInt()).isGreaterThanOrEqualTo(4);

        ContainerRuntime second = runtime();
        second.container(id).orElseThrow().stop(Duration.ofSeconds(5));
        // it ends for good: exited, no live monitor, and no further run
        Thread.sleep(3000);
        JsonNode settled = state(id);
        int count = settled.get("restartCount").asInt();
        Thread.sleep(3000);
        JsonNode later = state(id);
        assertThat(later.get("restartCount").asInt()).as("no run after the stop").isEqualTo(count);
        assertThat(later.get("status").asText()).isEqualTo("exited");
        assertThat(alive(later.get("monitor"))).isFalse();
        assertThat(second.list()).filteredOn(i -> i.id().equals(id)).extracting(ContainerInfo::status)
                .containsExactly(ContainerStatus.EXITED);
    }

    @Test
    void onFailureTwoStopsAfterTwoRestarts() throws Exception {
        String id = id("onfail");
        ContainerRuntime first = runtime();
        first.start(id, shell("sleep 0.2; exit 3").restart(RestartPolicy.onFailure(2)).build());
        first.close();
        followRuns(id, 2, Duration.ofSeconds(60));
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!state(id).path("status").asText().equals("exited") || alive(state(id).get("monitor"))) {
            assertThat(System.nanoTime()).as("exited within 30 s").isLessThan(deadline);
            Thread.sleep(50);
        }
        Thread.sleep(3000); // any further run would have started by now
        JsonNode s = state(id);
        assertThat(s.get("restartCount").asInt()).isEqualTo(2);
        assertThat(s.get("status").asText()).isEqualTo("exited");
        assertThat(s.get("exit").get("exitCode").asInt()).isEqualTo(3);
        assertThat(exitCommandLog(id)).contains("its restart policy does not restart it");
        assertThat(exitCommandLog(id).lines().filter(l -> l.contains("): restart ")).count()).isEqualTo(2);
    }

    @Test
    void anExitCommandWithoutItsClassesFailsInItsLogAndTheContainerStaysExitedWithNothingLeft() throws Exception {
        String id = id("nocp");
        ContainerRuntime first = runtime(ContainerRuntime.builder().exitCommandClassPath(tmp.resolve("no-such-dir")
                .toString()));
        first.start(id, shell("sleep 0.3; exit 1").restart(RestartPolicy.always()).build());
        first.close();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!exitCommandLog(id).contains("ExitCommand")) {
            assertThat(System.nanoTime()).as("the exit command's error within 30 s").isLessThan(deadline);
            Thread.sleep(50);
        }
        Thread.sleep(1000);
        assertThat(exitCommandLog(id)).contains("Could not find or load main class dev.berth.core.ExitCommand");
        JsonNode s = state(id);
        assertThat(s.get("restartCount").asInt()).isZero();
        assertThat(alive(s.get("monitor"))).isFalse();
        assertThat(alive(s.get("init"))).isFalse();
        // a later runtime settles it as any ended detached container: exited 1, its cgroup gone
        ContainerRuntime second = runtime();
        Container c = second.container(id).orElseThrow();
        assertThat(c.waitFor(Duration.ofSeconds(10))).isTrue();
        assertThat(c.onExit().get().exitCode()).isEqualTo(1);
        assertThat(second.cgroupDriver().flatMap(d -> d.open(id))).isEmpty();
    }

    @Test
    void theExitCommandRefusesBadArgumentsWithOneLine() throws Exception {
        String java = ProcessHandle.current().info().command().orElseThrow();
        for (List<String> args : List.<List<String>>of(List.of(), List.of("--state-root"), List.of("--state-root", "rel", "x"),
                List.of("--state-root", "/a", "--storage-root", "/b"), List.of("--bogus", "x"))) {
            List<String> argv = new ArrayList<>(List.of(java, "-cp", System.getProperty("java.class.path"),
                    ExitCommand.class.getName()));
            argv.addAll(args);
            Process p = new ProcessBuilder(argv).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes()).strip();
            assertThat(p.waitFor()).as("exit code for %s", args).isEqualTo(2);
            assertThat(out.lines().filter(l -> l.startsWith("berth exit command:")).toList()).as("%s", args).hasSize(1);
        }
        // a container that does not exist: nothing to do, nothing made
        int code = ExitCommand.run(new String[] {"--state-root", tmp.resolve("empty-state").toString(),
                "--storage-root", tmp.resolve("empty-storage").toString(), "no-such"});
        assertThat(code).isZero();
        assertThat(tmp.resolve("empty-state").resolve("no-such")).doesNotExist();
    }

    @Test
    void whenTheSupervisingJvmIsKilledTheExitCommandTakesOver() throws Exception {
        String id = id("killed");
        String java = ProcessHandle.current().info().command().orElseThrow();
        Process jvm = new ProcessBuilder(java, "-XX:TieredStopAtLevel=1", "-cp", CrashRecoveryIT.classPath(),
                dev.berth.core.testing.RestartingEmbedderMain.class.getName(), stateRoot.toString(),
                storageRoot.toString(), rootfs.toString(), id).redirectError(tmp.resolve("killed.err").toFile()).start();
        try {
            String line = new java.io.BufferedReader(new java.io.InputStreamReader(jvm.getInputStream())).readLine();
            assertThat(line).as("child: %s", Files.readString(tmp.resolve("killed.err"))).isEqualTo("started " + id);
            // its first restart is the child JVM's own (it holds the lease); kill it while that run runs
            followRuns(id, 1, Duration.ofSeconds(30));
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (!state(id).path("status").asText().equals("running")) {
                assertThat(System.nanoTime()).isLessThan(deadline);
                Thread.sleep(10);
            }
        } finally {
            jvm.destroyForcibly(); // SIGKILL: the kernel drops its lease
        }
        assertThat(jvm.waitFor(30, TimeUnit.SECONDS)).isTrue();
        int before = state(id).get("restartCount").asInt();
        followRuns(id, before + 2, Duration.ofSeconds(60));
        assertThat(exitCommandLog(id)).contains("restarted (restart " + (before + 1));
        ContainerRuntime second = runtime();
        second.container(id).orElseThrow().kill();
    }
}
