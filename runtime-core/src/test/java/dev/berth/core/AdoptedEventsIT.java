package dev.berth.core;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.berth.core.testing.TempRootsSupport;
import dev.berth.testing.RequiresCgroups;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;

/**
 * Handles of detached containers adopted by a later runtime (the starter closed): their events, each
 * once and in order, across pauses by other processes and restarts by the exit command, and their
 * health checks resumed from the stored spec.
 */
@RequiresCgroups
class AdoptedEventsIT extends TempRootsSupport {
    private static final ObjectMapper JSON = new ObjectMapper();
    final ExecutorService listenerThread = Executors.newSingleThreadExecutor(r -> new Thread(r, "adopted-events"));

    AdoptedEventsIT() {
        super("ae", Duration.ofMillis(1500));
    }

    @Override
    protected void runtimesClosed() {
        listenerThread.shutdownNow();
    }

    private ContainerSpec.Builder shell(String script) {
        return ContainerSpec.builder().rootfs(rootfs).command("/bin/sh", "-c", script).detached(true);
    }

    private static void await(String what, Duration within, BooleanSupplier done) throws InterruptedException {
        long deadline = System.nanoTime() + within.toNanos();
        while (!done.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("not within " + within + ": " + what);
            }
            Thread.sleep(20);
        }
    }

    private static List<String> types(List<ContainerEvent> events) {
        synchronized (events) {
            return events.stream().map(e -> e.type().label()).toList();
        }
    }

    private String recordedHealth(String id) throws IOException {
        for (int i = 0; ; i++) {
            try {
                return JSON.readTree(stateRoot.resolve(id).resolve("state.json").toFile()).path("health").asText();
            } catch (IOException e) {
                if (i > 20) {
                    throw e;
                }
            }
        }
    }

    @Test
    void pauseResumeAndStopOfAnAdoptedContainerAreEachDeliveredOnceInOrderAcrossProcesses() throws Exception {
        String id = id("pause");
        ContainerRuntime first = runtime();
        first.start(id, shell("exec sleep 1000").build());
        first.close(); // the starter lets go

        ContainerRuntime second = runtime();
        List<ContainerEvent> own = Collections.synchronizedList(new ArrayList<>());
        List<ContainerEvent> all = Collections.synchronizedList(new ArrayList<>());
        Set<String> threads = ConcurrentHashMap.newKeySet();
        Container c = second.container(id).orElseThrow();
        try (Subscription s1 = c.events(e -> {
            threads.add(Thread.currentThread().getName());
            own.add(e);
        }, listenerThread); Subscription s2 = second.events(all::add)) {
            // a second handle of the same id in the same runtime publishes nothing twice
            Container twin = second.container(id).orElseThrow();
            c.pause();
            assertThat(c.status()).isEqualTo(ContainerStatus.PAUSED);
            // resumed by another process: seen in the state
            try (ContainerRuntime third = runtime()) {
                third.container(id).orElseThrow().resume();
            }
            await("resumed seen", Duration.ofSeconds(5), () -> types(own).contains("resumed"));
            ExitStatus status = c.stop(Duration.ofSeconds(5));
            assertThat(status.signal()).isEqualTo(15);
            twin.close();
            second.remove(id, false);
            await("destroyed", Duration.ofSeconds(5), () -> types(own).contains("destroyed")
                    && types(all).contains("destroyed"));
            Thread.sleep(500); // nothing more comes
        }
        assertThat(types(own)).containsExactly("paused", "resumed", "exited", "destroyed");
        assertThat(types(all)).containsExactly("paused", "resumed", "exited", "destroyed");
        assertThat(threads).containsExactly("adopted-events");
        ContainerEvent exited = own.get(2);
        assertThat(exited.exitStatus().orElseThrow().signal()).isEqualTo(15);
        assertThat(own).allSatisfy(e -> assertThat(e.id()).isEqualTo(id));
    }

    @Test
    void anAdoptedRestartAlwaysHandleFollowsTheRestartByItsExitCommandUntilItIsStopped() throws Exception {
        String id = id("always");
        ContainerRuntime first = runtime();
        first.start(id, shell("sleep 1.5; exit 1").restart(RestartPolicy.always()).build());
        first.close(); // from now on its exit command restarts it

        ContainerRuntime second = runtime();
        Container c = second.container(id).orElseThrow();
        List<ContainerEvent> own = Collections.synchronizedList(new ArrayList<>());
        try (Subscription s = c.events(own::add)) {
            try {
                await("exited, restarting, started", Duration.ofSeconds(30), () -> types(own).contains("started"));
            } catch (AssertionError e) {
                Path log = stateRoot.resolve(id).resolve("exit-command.log");
                throw new AssertionError(e.getMessage() + "; events " + types(own) + "; status " + c.status()
                        + "; state " + Files.readString(stateRoot.resolve(id).resolve("state.json")) + "; exit command: "
                        + (Files.exists(log) ? Files.readString(log) : "none"), e);
            }
            assertThat(types(own)).containsExactly("exited", "restarting", "started");
            assertThat(own.get(0).exitStatus().orElseThrow().exitCode()).isEqualTo(1);
            assertThat(own.get(1).attributes()).containsEntry("restartCount", "1");
            assertThat(own.get(2).attributes()).containsEntry("restartCount", "1");
            // the handle follows the new run: not ended, and it stops that run
            assertThat(c.onExit()).isNotDone();
            assertThat(c.isRunning()).isTrue();
            assertThat(c.restartCount()).isEqualTo(1);
            // the exit command is done with the new run (a stop recorded while it still starts the run is
            // answered with SIGKILL: "a run started while a stop was being recorded is killed at once")
            Path log = stateRoot.resolve(id).resolve("exit-command.log");
            await("the exit command done", Duration.ofSeconds(30), () -> {
                try {
                    return Files.exists(log) && Files.readString(log).contains("restarted (restart 1");
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
            ExitStatus stopped = c.stop(Duration.ofSeconds(5));
            assertThat(stopped.signal()).isEqualTo(15); // the new run's end, not the first run's exit 1
            assertThat(c.onExit().get(5, java.util.concurrent.TimeUnit.SECONDS)).isEqualTo(stopped);
            Thread.sleep(2500); // no restart after the stop
            assertThat(second.container(id).orElseThrow().status()).isEqualTo(ContainerStatus.EXITED);
            assertThat(types(own)).containsExactly("exited", "restarting", "started", "exited");
        }
    }

    @Test
    void healthChecksResumeOnAnAdoptedHandleAndAreRecordedUntilItIsClosed() throws Exception {
        String id = id("health");
        ContainerRuntime first = runtime();
        HealthCheck check = HealthCheck.builder().command("/bin/test", "-f", "/tmp/ready")
                .interval(Duration.ofMillis(200)).timeout(Duration.ofSeconds(2)).retries(2)
                .startPeriod(Duration.ofSeconds(60)).build(); // failures before the first success do not count
        first.start(id, shell("exec sleep 1000").healthCheck(check).build());
        first.close();

        ContainerRuntime second = runtime();
        Container c = second.container(id).orElseThrow();
        List<ContainerEvent> own = Collections.synchronizedList(new ArrayList<>());
        try (Subscription s = c.events(own::add)) {
            assertThat(c.health()).map(Health::status).contains(HealthStatus.STARTING);
            assertThat(recordedHealth(id)).isEqualTo("starting");
            Thread.sleep(1000);
            assertThat(c.health().orElseThrow().status()).isEqualTo(HealthStatus.STARTING);
            try (ExecProcess p = c.exec(ExecSpec.of("/bin/touch", "/tmp/ready"))) {
                assertThat(p.waitFor(Duration.ofSeconds(10)).orElseThrow().exitCode()).isZero();
            }
            c.onHealthy().get(10, java.util.concurrent.TimeUnit.SECONDS);
            await("healthy recorded", Duration.ofSeconds(5), () -> {
                try {
                    return recordedHealth(id).equals("healthy");
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
            assertThat(second.list()).filteredOn(i -> i.id().equals(id)).singleElement()
                    .satisfies(i -> assertThat(i.health()).contains(HealthStatus.HEALTHY));
            try (ExecProcess p = c.exec(ExecSpec.of("/bin/rm", "/tmp/ready"))) {
                assertThat(p.waitFor(Duration.ofSeconds(10)).orElseThrow().exitCode()).isZero();
            }
            await("unhealthy", Duration.ofSeconds(10), () -> c.health().orElseThrow().status() == HealthStatus.UNHEALTHY);
            await("unhealthy recorded", Duration.ofSeconds(5), () -> {
                try {
                    return recordedHealth(id).equals("unhealthy");
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
            await("events", Duration.ofSeconds(5), () -> own.size() >= 2);
            assertThat(own).extracting(e -> e.type().label() + "=" + e.attributes().get("health_status"))
                    .containsExactly("health_status=healthy", "health_status=unhealthy");
        }
        // closed: no check runs any more, so the recorded status stays as it was once the file is back
        // (put there from the host, through the init's root: no other handle adopts it and checks it)
        long pid = c.pid();
        c.close();
        Files.createFile(Path.of("/proc/" + pid + "/root/tmp/ready"));
        Thread.sleep(1500);
        assertThat(recordedHealth(id)).isEqualTo("unhealthy");
        assertThat(own).hasSize(2);
    }

    private static List<String> labels(List<ContainerEvent> events) {
        synchronized (events) {
            return events.stream().map(e -> e.type().label() + (e.attributes().containsKey("health_status")
                    ? "=" + e.attributes().get("health_status") : "")).toList();
        }
    }

    /**
     * podman's --health-on-failure=restart on adopted handles: the run that became unhealthy is restarted
     * by its supervisor (here its exit command: the starter let go) although its policy is {@code no}; two
     * handles in two runtimes follow it and both see it unhealthy, yet it is restarted once.
     */
    @Test
    void anUnhealthyRestartOfAdoptedHandlesRestartsAContainerWithPolicyNoOnce() throws Exception {
        String id = id("unhealthy-no");
        HealthCheck check = HealthCheck.builder().command("/bin/sh", "-c", "test ! -f /tmp/bad")
                .interval(Duration.ofMillis(200)).timeout(Duration.ofSeconds(2)).retries(1).build();
        ContainerRuntime first = runtime();
        // each run starts healthy (the file goes), and turns unhealthy once the file appears
        first.start(id, shell("rm -f /tmp/bad; exec sleep 1000").healthCheck(check)
                .onUnhealthy(UnhealthyAction.RESTART).build());
        first.close();

        ContainerRuntime second = runtime();
        ContainerRuntime third = runtime();
        Container c = second.container(id).orElseThrow();
        Container twin = third.container(id).orElseThrow();
        List<ContainerEvent> own = Collections.synchronizedList(new ArrayList<>());
        List<ContainerEvent> other = Collections.synchronizedList(new ArrayList<>());
        Instant created = second.list().stream().filter(i -> i.id().equals(id)).findFirst().orElseThrow().created();
        try (Subscription s1 = c.events(own::add); Subscription s2 = twin.events(other::add)) {
            await("healthy", Duration.ofSeconds(10), () -> c.health().orElseThrow().status() == HealthStatus.HEALTHY
                    && twin.health().orElseThrow().status() == HealthStatus.HEALTHY);
            long firstPid = c.pid();
            try (ExecProcess p = c.exec(ExecSpec.of("/bin/touch", "/tmp/bad"))) {
                assertThat(p.waitFor(Duration.ofSeconds(10)).orElseThrow().exitCode()).isZero();
            }
            try {
                await("restarted and healthy again", Duration.ofSeconds(40), () -> labels(own).contains("started")
                        && labels(own).lastIndexOf("health_status=healthy") > labels(own).indexOf("started")
                        && labels(other).contains("started"));
            } catch (AssertionError e) {
                Path log = stateRoot.resolve(id).resolve("exit-command.log");
                throw new AssertionError(e.getMessage() + "; events " + labels(own) + " / " + labels(other)
                        + "; state " + Files.readString(stateRoot.resolve(id).resolve("state.json")) + "; exit command: "
                        + (Files.exists(log) ? Files.readString(log) : "none"), e);
            }
            assertThat(labels(own)).containsSubsequence("health_status=unhealthy", "exited", "restarting", "started",
                    "health_status=healthy");
            assertThat(c.pid()).isNotEqualTo(firstPid);
            assertThat(c.isRunning()).isTrue();
            Thread.sleep(2000); // no second restart comes from the second handle's request
            assertThat(labels(own).stream().filter("restarting"::equals).count()).isEqualTo(1);
            assertThat(labels(own).stream().filter("started"::equals).count()).isEqualTo(1);
            assertThat(labels(other).stream().filter("started"::equals).count()).isEqualTo(1);
            assertThat(c.restartCount()).isEqualTo(1);
            assertThat(second.list()).filteredOn(i -> i.id().equals(id)).singleElement().satisfies(i -> {
                assertThat(i.restartCount()).isEqualTo(1);
                assertThat(i.status()).isEqualTo(ContainerStatus.RUNNING);
                assertThat(i.created()).isEqualTo(created); // the first creation time, kept across the restart
            });
            assertThat(recordedHealth(id)).isEqualTo("healthy");
            Path log = stateRoot.resolve(id).resolve("exit-command.log");
            // by its exit command, once
            assertThat(Files.readString(log).split("restarted \\(restart ", -1)).hasSize(2);
            // an explicit stop still wins: it stays exited, its policy being no
            ExitStatus stopped = c.stop(Duration.ofSeconds(5));
            assertThat(stopped.signal()).isEqualTo(15);
            Thread.sleep(2500);
            assertThat(second.container(id).orElseThrow().status()).isEqualTo(ContainerStatus.EXITED);
            assertThat(second.container(id).orElseThrow().restartCount()).isEqualTo(1);
        }
    }

    /**
     * The same while its starter still holds on (its handle holds the supervisor lease and runs the same
     * check): the starter's handle restarts it, in its JVM, and the adopted handle's request adds no second
     * restart.
     */
    @Test
    void anUnhealthyRestartWhileItsStarterSupervisesItRestartsItOnce() throws Exception {
        String id = id("unhealthy-lease");
        HealthCheck check = HealthCheck.builder().command("/bin/sh", "-c", "test ! -f /tmp/bad")
                .interval(Duration.ofMillis(200)).timeout(Duration.ofSeconds(2)).retries(1).build();
        ContainerRuntime first = runtime();
        Container starter = first.start(id, shell("rm -f /tmp/bad; exec sleep 1000").healthCheck(check)
                .onUnhealthy(UnhealthyAction.RESTART).build());
        ContainerRuntime second = runtime();
        Container c = second.container(id).orElseThrow();
        List<ContainerEvent> own = Collections.synchronizedList(new ArrayList<>());
        try (Subscription s = c.events(own::add)) {
            await("healthy", Duration.ofSeconds(10), () -> c.health().orElseThrow().status() == HealthStatus.HEALTHY);
            try (ExecProcess p = c.exec(ExecSpec.of("/bin/touch", "/tmp/bad"))) {
                assertThat(p.waitFor(Duration.ofSeconds(10)).orElseThrow().exitCode()).isZero();
            }
            try {
                await("restarted", Duration.ofSeconds(30), () -> labels(own).contains("started")
                        && starter.restartCount() == 1);
            } catch (AssertionError e) {
                throw new AssertionError(e.getMessage() + "; events " + labels(own) + "; starter " + starter.status()
                        + " " + starter.restartCount() + "; state " + Files.readString(stateRoot.resolve(id)
                        .resolve("state.json")), e);
            }
            Thread.sleep(2000);
            assertThat(starter.restartCount()).isEqualTo(1);
            assertThat(c.restartCount()).isEqualTo(1);
            assertThat(labels(own).stream().filter("started"::equals).count()).isEqualTo(1);
            assertThat(starter.isRunning()).isTrue();
            // the ended run's exit command (a JVM: give it time) found the lease held and left it to the starter
            Path log = stateRoot.resolve(id).resolve("exit-command.log");
            await("the exit command's line", Duration.ofSeconds(30), () -> {
                try {
                    return Files.exists(log) && Files.readString(log).contains("its supervisor lease is held");
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
            assertThat(Files.readString(log)).doesNotContain("restarted (restart");
            assertThat(starter.restartCount()).isEqualTo(1);
            starter.kill();
            assertThat(starter.onExit().get(10, java.util.concurrent.TimeUnit.SECONDS).signal()).isEqualTo(9);
        }
    }

    /** The image's own Healthcheck (the spec has none) is kept in the state, and an adopted handle resumes it. */
    @Test
    void theImagesHealthcheckResumesOnAnAdoptedHandle() throws Exception {
        String id = id("image-check");
        ContainerRuntime first = runtime();
        com.fasterxml.jackson.databind.node.ObjectNode config = JSON.createObjectNode();
        config.putArray("Cmd").add("/bin/sh").add("-c").add("exec sleep 1000");
        com.fasterxml.jackson.databind.node.ObjectNode hc = config.putObject("Healthcheck");
        hc.putArray("Test").add("CMD-SHELL").add("test -f /tmp/ok");
        hc.put("Interval", 200_000_000L); // docker's config: nanoseconds
        hc.put("Retries", 1);
        Path layout = dev.berth.core.testing.OciLayouts.busybox(tmp.resolve("hc-layout"), "hc", config,
                List.of("sh", "test", "touch", "sleep"));
        first.images().importImage(layout, java.util.Optional.of("it/adopted-healthcheck:1"),
                dev.berth.image.ImportProgress.NONE);
        first.start(id, ContainerSpec.builder().image("it/adopted-healthcheck:1").detached(true).build());
        first.close();
        assertThat(JSON.readTree(stateRoot.resolve(id).resolve("state.json").toFile()).path("control")
                .path("healthCheck").path("command").toString()).isEqualTo("[\"/bin/sh\",\"-c\",\"test -f /tmp/ok\"]");

        ContainerRuntime second = runtime();
        Container c = second.container(id).orElseThrow();
        assertThat(c.health()).isPresent();
        try (ExecProcess p = c.exec(ExecSpec.of("/bin/touch", "/tmp/ok"))) {
            assertThat(p.waitFor(Duration.ofSeconds(10)).orElseThrow().exitCode()).isZero();
        }
        c.onHealthy().get(10, java.util.concurrent.TimeUnit.SECONDS);
        assertThat(c.health().orElseThrow().log()).isNotEmpty();
        await("healthy recorded", Duration.ofSeconds(5), () -> {
            try {
                return recordedHealth(id).equals("healthy");
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
        c.kill();
        c.close();
    }
}
