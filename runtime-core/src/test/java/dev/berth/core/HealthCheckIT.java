package dev.berth.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.core.testing.BusyboxRootfs;
import dev.berth.core.testing.ContainerTestSupport;
import dev.berth.testing.RequiresRoot;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Health checks on real containers: exec, TCP and HTTP (made inside the container's own network
 * namespace, where the port is the only way in), going starting → healthy → unhealthy → restarted.
 */
@RequiresRoot
class HealthCheckIT extends ContainerTestSupport {
    /** A port nothing on the host listens on: the checks reach it inside the container only. */
    private static final int PORT = 18473;
    static Path rootfs;

    @BeforeAll
    static void busybox() throws Exception {
        rootfs = BusyboxRootfs.create(tmp.resolve("busybox-root"));
    }

    private static ContainerSpec.Builder sh(String script) {
        return ContainerSpec.builder().rootfs(rootfs).command("/bin/sh", "-c", script).stdout(Stdio.discard())
                .stderr(Stdio.discard());
    }

    private static List<String> healthEvents(List<ContainerEvent> events) {
        synchronized (events) {
            return events.stream().filter(e -> e.type() == ContainerEvent.Type.HEALTH_STATUS
                    || e.type() == ContainerEvent.Type.RESTARTING)
                    .map(e -> e.type() == ContainerEvent.Type.RESTARTING ? "restarting"
                            : e.attributes().get("health_status")).toList();
        }
    }

    /** Until the first healthy check; on a timeout the failure says what the checks said. */
    private static void awaitHealthy(Container c) throws Exception {
        try {
            c.onHealthy().get(30, TimeUnit.SECONDS);
        } catch (java.util.concurrent.TimeoutException e) {
            throw new AssertionError("not healthy within 30 s: " + c.health(), e);
        }
    }

    private static void await(Container c, HealthStatus s) throws InterruptedException {
        RestartIT.waitFor(() -> c.health().map(h -> h.status() == s).orElse(false));
    }

    @Test
    void execCheckGoesHealthyThenUnhealthyAndTheContainerIsRestarted() throws Exception {
        Path ready = rootfs.resolve("tmp/ready");
        Files.deleteIfExists(ready);
        // the start period covers the half second before each incarnation makes the file
        HealthCheck check = HealthCheck.builder().command("/bin/test", "-f", "/tmp/ready")
                .interval(Duration.ofMillis(200)).timeout(Duration.ofSeconds(5)).retries(2)
                .startPeriod(Duration.ofSeconds(5)).build();
        List<ContainerEvent> events = Collections.synchronizedList(new ArrayList<>());
        try (Container c = runtime.start(sh("sleep 0.5; touch /tmp/ready; exec sleep 1000").healthCheck(check)
                .onUnhealthy(UnhealthyAction.RESTART).build())) {
            c.events(events::add);
            assertThat(c.health()).map(Health::status).contains(HealthStatus.STARTING);
            awaitHealthy(c);
            assertThat(c.health().orElseThrow().status()).isEqualTo(HealthStatus.HEALTHY);
            assertThat(c.health().orElseThrow().log()).isNotEmpty().last().extracting(HealthResult::exitCode)
                    .isEqualTo(0);
            assertThat(Files.readString(stateRoot.resolve(c.id()).resolve("state.json"))).contains("\"health\":\"healthy\"");
            long firstPid = c.pid();
            Files.delete(ready); // the check fails from now on, until the new incarnation makes it again
            RestartIT.waitFor(() -> c.restartCount() >= 1 && c.pid() != firstPid);
            await(c, HealthStatus.HEALTHY);
            assertThat(c.isRunning()).isTrue();
            RestartIT.waitFor(() -> healthEvents(events).size() >= 4);
            assertThat(healthEvents(events)).startsWith("healthy", "unhealthy", "restarting", "healthy");
            HealthResult failed = c.health().orElseThrow().log().stream().filter(r -> r.exitCode() != 0).findFirst()
                    .orElse(null);
            assertThat(failed == null || failed.exitCode() == 1).isTrue();
        }
    }

    @Test
    void execCheckOutputAndTimeoutAreRecorded() throws Exception {
        HealthCheck check = HealthCheck.builder().shell("echo checking; sleep 30")
                .interval(Duration.ofMillis(100)).timeout(Duration.ofMillis(300)).retries(1).build();
        try (Container c = runtime.start(sh("exec sleep 1000").healthCheck(check).build())) {
            await(c, HealthStatus.UNHEALTHY);
            HealthResult r = c.health().orElseThrow().log().get(0);
            assertThat(r.exitCode()).isEqualTo(-1);
            assertThat(r.output()).contains("exceeded timeout");
            c.kill();
            assertThatThrownBy(() -> c.onHealthy().get(10, TimeUnit.SECONDS)).isInstanceOf(ExecutionException.class)
                    .hasMessageContaining("before it was healthy");
        }
        HealthCheck echo = HealthCheck.builder().shell("echo out; echo err >&2; exit 3")
                .interval(Duration.ofMillis(100)).retries(1).build();
        try (Container c = runtime.start(sh("exec sleep 1000").healthCheck(echo).build())) {
            await(c, HealthStatus.UNHEALTHY);
            HealthResult r = c.health().orElseThrow().log().get(0);
            assertThat(r.exitCode()).isEqualTo(3);
            assertThat(r.output()).contains("out").contains("err");
        }
    }

    @Test
    void tcpCheckReachesAPortOpenOnlyInsideTheContainer() throws Exception {
        HealthCheck check = HealthCheck.builder().tcp(PORT).interval(Duration.ofMillis(200))
                .timeout(Duration.ofSeconds(2)).retries(2).build();
        List<ContainerEvent> events = Collections.synchronizedList(new ArrayList<>());
        // httpd without -f goes to the background; its shell stays as the target
        try (Container c = runtime.start(sh("httpd -p 127.0.0.1:" + PORT + " -h /www; exec sleep 1000")
                .healthCheck(check).onUnhealthy(UnhealthyAction.RESTART).build())) {
            c.events(events::add);
            awaitHealthy(c);
            // the host's own loopback has nothing there: the check did connect inside the container
            assertThatThrownBy(() -> {
                try (Socket s = new Socket()) {
                    s.connect(new InetSocketAddress("127.0.0.1", PORT), 1000);
                }
            }).isInstanceOf(ConnectException.class);
            long firstPid = c.pid();
            try (ExecProcess kill = c.exec(ExecSpec.of("/bin/killall", "httpd"))) {
                assertThat(kill.onExit().get(10, TimeUnit.SECONDS)).isEqualTo(ExitStatus.exited(0));
            }
            RestartIT.waitFor(() -> c.restartCount() == 1 && c.pid() != firstPid);
            await(c, HealthStatus.HEALTHY);
            RestartIT.waitFor(() -> healthEvents(events).size() >= 4);
            assertThat(healthEvents(events)).startsWith("healthy", "unhealthy", "restarting", "healthy");
            assertThat(c.health().orElseThrow().log()).allSatisfy(r -> assertThat(r.output()).isNotNull());
        }
    }

    @Test
    void httpCheckGoesStartingHealthyUnhealthyRestarted() throws Exception {
        HealthCheck check = HealthCheck.builder().http(PORT, "/index.html").interval(Duration.ofMillis(200))
                .timeout(Duration.ofSeconds(2)).retries(2).build();
        List<ContainerEvent> events = Collections.synchronizedList(new ArrayList<>());
        try (Container c = runtime.start(sh("httpd -p " + PORT + " -h /www; exec sleep 1000").healthCheck(check)
                .onUnhealthy(UnhealthyAction.RESTART).build())) {
            c.events(events::add);
            awaitHealthy(c);
            assertThat(c.health().orElseThrow().log().stream().filter(r -> r.exitCode() == 0).findFirst()
                    .orElseThrow().output()).startsWith("HTTP/1.").contains("200");
            try (ExecProcess kill = c.exec(ExecSpec.of("/bin/killall", "httpd"))) {
                kill.onExit().get(10, TimeUnit.SECONDS);
            }
            RestartIT.waitFor(() -> c.restartCount() == 1);
            await(c, HealthStatus.HEALTHY);
            RestartIT.waitFor(() -> healthEvents(events).size() >= 4);
            assertThat(healthEvents(events)).startsWith("healthy", "unhealthy", "restarting", "healthy");
        }
    }

    @Test
    void anHttpStatusOutsideTheRangeIsUnhealthyAndStopEndsTheContainer() throws Exception {
        HealthCheck check = HealthCheck.builder().http(PORT, "/missing").interval(Duration.ofMillis(100))
                .timeout(Duration.ofSeconds(2)).retries(2).build();
        try (Container c = runtime.start(sh("httpd -p " + PORT + " -h /www; exec sleep 1000").healthCheck(check)
                .restart(RestartPolicy.always()).onUnhealthy(UnhealthyAction.STOP).build())) {
            ExitStatus s = c.onExit().get(60, TimeUnit.SECONDS); // an unhealthy stop is not undone by "always"
            assertThat(s.terminatingSignal()).isPresent();
            assertThat(c.restartCount()).isZero();
            assertThat(c.health().orElseThrow().status()).isEqualTo(HealthStatus.UNHEALTHY);
            assertThat(c.health().orElseThrow().log().get(0).output()).contains("404");
            assertThatThrownBy(() -> c.onHealthy().join()).isInstanceOf(CompletionException.class);
        }
    }

    @Test
    void aContainerWithoutACheckHasNoHealthAndOneThreadChecksThemAll() throws Exception {
        try (Container c = runtime.start(sh("exec sleep 1000").build())) {
            assertThat(c.health()).isEmpty();
            assertThat(c.onHealthy()).isCompletedExceptionally();
        }
        HealthCheck check = HealthCheck.builder().command("/bin/true").interval(Duration.ofMillis(100)).build();
        List<Container> many = new ArrayList<>();
        try {
            for (int i = 0; i < 5; i++) {
                many.add(runtime.start(sh("exec sleep 1000").healthCheck(check).build()));
            }
            for (Container c : many) {
                awaitHealthy(c);
            }
            Set<Thread> threads = Thread.getAllStackTraces().keySet();
            assertThat(threads.stream().filter(t -> t.getName().startsWith("berth-health")).count()).isEqualTo(1);
        } finally {
            many.forEach(Container::close);
        }
    }

    @Test
    void theImagesHealthcheckAppliesUnlessTheSpecHasOneAndNoneDisablesIt() throws Exception {
        com.fasterxml.jackson.databind.ObjectMapper json = new com.fasterxml.jackson.databind.ObjectMapper();
        com.fasterxml.jackson.databind.node.ObjectNode config = json.createObjectNode();
        config.putArray("Cmd").add("/bin/sh").add("-c").add("touch /tmp/ok; exec sleep 1000");
        com.fasterxml.jackson.databind.node.ObjectNode hc = config.putObject("Healthcheck");
        hc.putArray("Test").add("CMD-SHELL").add("test -f /tmp/ok");
        hc.put("Interval", 100_000_000L); // docker's config: nanoseconds
        hc.put("Retries", 2);
        Path layout = dev.berth.core.testing.OciLayouts.busybox(tmp.resolve("hc-layout"), "hc",
                config, List.of("sh", "test", "touch", "sleep"));
        runtime.images().importImage(layout, java.util.Optional.of("it/healthcheck:1"),
                dev.berth.image.ImportProgress.NONE);
        try (Container c = runtime.start(ContainerSpec.builder().image("it/healthcheck:1").stdout(Stdio.discard())
                .build())) {
            awaitHealthy(c);
            assertThat(c.health().orElseThrow().log()).isNotEmpty();
            assertThat(runtime.list().stream().filter(i -> i.id().equals(c.id())).findFirst()).isPresent();
        }
        // the spec's own check wins over the image's: this one can never pass
        HealthCheck never = HealthCheck.builder().command("/bin/test", "-f", "/nope").interval(Duration.ofMillis(100))
                .retries(1).build();
        try (Container c = runtime.start(ContainerSpec.builder().image("it/healthcheck:1").stdout(Stdio.discard())
                .healthCheck(never).build())) {
            await(c, HealthStatus.UNHEALTHY);
        }
        hc.removeAll();
        hc.putArray("Test").add("NONE");
        Path none = dev.berth.core.testing.OciLayouts.busybox(tmp.resolve("none-layout"), "none", config,
                List.of("sh", "test", "touch", "sleep"));
        runtime.images().importImage(none, java.util.Optional.of("it/healthcheck-none:1"),
                dev.berth.image.ImportProgress.NONE);
        try (Container c = runtime.start(ContainerSpec.builder().image("it/healthcheck-none:1")
                .stdout(Stdio.discard()).build())) {
            assertThat(c.health()).isEmpty();
        }
    }
}
