package dev.berth.core;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.berth.core.testing.AdoptingEmbedderMain;
import dev.berth.core.testing.TempRootsSupport;
import dev.berth.testing.RequiresCgroups;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;

/**
 * Handles of one container in several runtimes (processes) see one history: its health checks run in
 * one process at a time (its health lease), and what any process causes (a health result, a pause, a
 * resume) is journaled once and delivered to every handle from the journal, however briefly it lasted.
 */
@RequiresCgroups
class SharedEventsIT extends TempRootsSupport {
    private static final ObjectMapper JSON = new ObjectMapper();
    /**
     * Each check appends a line to /tmp/checks in the container, then fails while /tmp/bad exists;
     * unhealthy after two failures in a row (one check that meets the pause below fails alone).
     */
    private static final HealthCheck CHECK = HealthCheck.builder()
            .command("/bin/sh", "-c", "echo x >> /tmp/checks; test ! -f /tmp/bad")
            .interval(Duration.ofMillis(200)).timeout(Duration.ofSeconds(2)).retries(2).build();

    SharedEventsIT() {
        super("se", Duration.ofMillis(1500));
    }

    private static void await(String what, Duration within, BooleanSupplier done) throws InterruptedException {
        long deadline = System.nanoTime() + within.toNanos();
        while (!done.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("not within " + within + ": " + what);
            }
            Thread.sleep(5);
        }
    }

    private static List<String> labels(List<ContainerEvent> events) {
        synchronized (events) {
            return events.stream().map(e -> e.type().label() + (e.attributes().containsKey("health_status")
                    ? "=" + e.attributes().get("health_status") : "")).toList();
        }
    }

    private static List<String> withTimes(List<ContainerEvent> events) {
        synchronized (events) {
            return events.stream().filter(e -> e.type() != ContainerEvent.Type.EXITED
                    && e.type() != ContainerEvent.Type.DESTROYED).map(e -> e.type().label() + "@" + e.time()).toList();
        }
    }

    private String recordedHealth(String id) {
        for (int i = 0; ; i++) {
            try {
                return JSON.readTree(stateRoot.resolve(id).resolve("state.json").toFile()).path("health").asText();
            } catch (IOException e) {
                if (i > 20) {
                    throw new UncheckedIOException(e);
                }
            }
        }
    }

    private static void run(Container c, String... argv) throws Exception {
        try (ExecProcess p = c.exec(ExecSpec.of(argv))) {
            assertThat(p.waitFor(Duration.ofSeconds(10)).orElseThrow().exitCode()).isZero();
        }
    }

    /** The lines the checks appended so far (read from the host through the init's root). */
    private static long checks(long initPid) throws IOException {
        Path f = Path.of("/proc/" + initPid + "/root/tmp/checks");
        return Files.exists(f) ? Files.readAllLines(f).size() : 0;
    }

    /** Whether someone holds the container's health lease (flock(1) as another process would try it). */
    private boolean healthLeaseHeld(String id) throws Exception {
        Process p = new ProcessBuilder("flock", "-n", stateRoot.resolve(id).resolve("health.lock").toString(), "true")
                .redirectErrorStream(true).start();
        assertThat(p.waitFor(10, TimeUnit.SECONDS)).isTrue();
        return p.exitValue() != 0;
    }

    @Test
    void twoRuntimesSeeOneHistoryIncludingAShortUnhealthyAndAPauseResumeWithinOnePoll() throws Exception {
        String id = id("one-history");
        ContainerRuntime first = runtime();
        first.start(id, ContainerSpec.builder().rootfs(rootfs).command("/bin/sh", "-c", "exec sleep 1000")
                .detached(true).healthCheck(CHECK).build());
        first.close(); // the starter lets go: the handles below take over its checks, one of them at a time

        ContainerRuntime second = runtime();
        ContainerRuntime third = runtime();
        Container a = second.container(id).orElseThrow();
        Container b = third.container(id).orElseThrow();
        List<ContainerEvent> seenByA = Collections.synchronizedList(new ArrayList<>());
        List<ContainerEvent> seenByB = Collections.synchronizedList(new ArrayList<>());
        try (Subscription s1 = a.events(seenByA::add); Subscription s2 = b.events(seenByB::add)) {
            await("healthy in both", Duration.ofSeconds(15), () -> a.health().orElseThrow().status() == HealthStatus.HEALTHY
                    && b.health().orElseThrow().status() == HealthStatus.HEALTHY);
            assertThat(healthLeaseHeld(id)).isTrue();

            // the checks run in one process at a time: over 3 s at one check per 200 ms (plus the exec),
            // one checker appends at most ~15 lines; two would append ~30
            long before = checks(a.pid());
            Thread.sleep(3000);
            long during = checks(a.pid()) - before;
            assertThat(during).as("checks in 3 s").isBetween(3L, 17L);

            // a short unhealthy: the file goes again as soon as the state records it
            run(a, "/bin/touch", "/tmp/bad");
            await("unhealthy recorded", Duration.ofSeconds(10), () -> recordedHealth(id).equals("unhealthy"));
            Files.delete(Path.of("/proc/" + a.pid() + "/root/tmp/bad"));
            await("healthy again", Duration.ofSeconds(10), () -> recordedHealth(id).equals("healthy"));

            // paused and resumed by a third party within one poll interval (100 ms) of the handles
            try (ContainerRuntime fourth = runtime()) {
                Container other = fourth.container(id).orElseThrow();
                other.pause();
                other.resume(); // (a freeze and a thaw: well within 100 ms unless the host is loaded)
                other.close();
            }
            await("resumed in both", Duration.ofSeconds(5), () -> labels(seenByA).contains("resumed")
                    && labels(seenByB).contains("resumed"));

            ExitStatus stopped = a.stop(Duration.ofSeconds(5));
            assertThat(stopped.signal()).isEqualTo(15);
            b.close();
            second.remove(id, false);
            await("destroyed", Duration.ofSeconds(10), () -> labels(seenByA).contains("destroyed"));
            Thread.sleep(500); // nothing more comes
        }
        // (the first healthy may have been the starter's, journaled before these handles subscribed)
        List<String> a1 = labels(seenByA);
        assertThat(a1.subList(a1.indexOf("health_status=unhealthy") - 1, a1.size())).containsExactly(
                "health_status=healthy", "health_status=unhealthy", "health_status=healthy", "paused", "resumed",
                "exited", "destroyed");
        assertThat(a1).hasSizeBetween(7, 8);
        // b closed before the end: up to the same point, the same events at the same times
        assertThat(withTimes(seenByB)).containsExactlyElementsOf(withTimes(seenByA));
        assertThat(stateRoot.resolve(id)).doesNotExist(); // the journal went with the container
    }

    @Test
    void killingTheProcessThatRunsTheChecksHandsThemOver() throws Exception {
        String id = id("handover");
        ContainerRuntime first = runtime();
        first.start(id, ContainerSpec.builder().rootfs(rootfs).command("/bin/sh", "-c", "exec sleep 1000")
                .detached(true).healthCheck(CHECK).build());
        first.close();

        String java = ProcessHandle.current().info().command().orElseThrow();
        Path err = tmp.resolve("adopting.err");
        Process child = new ProcessBuilder(java, "-XX:TieredStopAtLevel=1", "-cp", CrashRecoveryIT.classPath(),
                AdoptingEmbedderMain.class.getName(), stateRoot.toString(), storageRoot.toString(), id)
                .redirectError(err.toFile()).start();
        List<ContainerEvent> seen = Collections.synchronizedList(new ArrayList<>());
        try {
            String line = new BufferedReader(new InputStreamReader(child.getInputStream())).readLine();
            assertThat(line).as("child: %s", Files.readString(err)).isEqualTo("adopted " + id);
            // the child adopted it first: it holds the lease and runs the checks
            await("the child holds the health lease", Duration.ofSeconds(10), () -> {
                try {
                    return healthLeaseHeld(id);
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            ContainerRuntime second = runtime();
            Container c = second.container(id).orElseThrow();
            try (Subscription s = c.events(seen::add)) {
                // its results reach this process through the journal, and this one checks nothing
                await("healthy here", Duration.ofSeconds(15), () -> c.health().orElseThrow().status() == HealthStatus.HEALTHY);
                long before = checks(c.pid());
                Thread.sleep(2000);
                assertThat(checks(c.pid()) - before).as("checks in 2 s, one checker").isBetween(2L, 12L);
                assertThat(c.health().orElseThrow().log()).as("no check ran here").isEmpty();

                child.destroyForcibly(); // SIGKILL: the kernel drops its lease
                assertThat(child.waitFor(30, TimeUnit.SECONDS)).isTrue();
                long atKill = checks(c.pid());
                await("checks go on here", Duration.ofSeconds(10), () -> {
                    try {
                        return checks(c.pid()) >= atKill + 3 && !c.health().orElseThrow().log().isEmpty();
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                });
                run(c, "/bin/touch", "/tmp/bad");
                await("unhealthy here", Duration.ofSeconds(10), () -> labels(seen).contains("health_status=unhealthy"));
                assertThat(recordedHealth(id)).isEqualTo("unhealthy");
                // the healthy of the child's checks (journaled; unless the starter's came before this handle
                // subscribed), then the unhealthy of this process's own: each once
                assertThat(labels(seen)).endsWith("health_status=unhealthy").hasSizeBetween(1, 2)
                        .doesNotHaveDuplicates();
                c.kill();
            }
        } finally {
            child.destroyForcibly();
            child.waitFor(30, TimeUnit.SECONDS);
        }
    }
}
