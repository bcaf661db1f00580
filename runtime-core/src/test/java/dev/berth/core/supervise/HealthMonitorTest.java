package dev.berth.core.supervise;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.core.ExecProcess;
import dev.berth.core.ExecSpec;
import dev.berth.core.Health;
import dev.berth.core.HealthCheck;
import dev.berth.core.HealthResult;
import dev.berth.core.HealthStatus;
import dev.berth.core.internal.state.ProcessId;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The monitor on a real scheduler thread with a fake probe whose answers the test sets. */
class HealthMonitorTest {
    private final HealthScheduler scheduler = new HealthScheduler("test-health", () -> { });

    @AfterEach
    void close() {
        scheduler.close();
    }

    private static final HealthProbe.Target TARGET = new HealthProbe.Target() {
        @Override
        public String id() {
            return "web-1";
        }

        @Override
        public ProcessId init() {
            return new ProcessId(1, 1);
        }

        @Override
        public ExecProcess exec(ExecSpec spec) {
            throw new UnsupportedOperationException();
        }

        @Override
        public Path outputFile() {
            return Path.of("/nonexistent");
        }
    };

    @Test
    void goesStartingHealthyUnhealthyAsTheProbeSays() throws Exception {
        AtomicBoolean up = new AtomicBoolean(true);
        Set<Thread> probeThreads = ConcurrentHashMap.newKeySet();
        HealthProbe fake = (check, target, done) -> {
            probeThreads.add(Thread.currentThread());
            java.time.Instant now = java.time.Instant.now();
            done.accept(new HealthResult(up.get() ? 0 : 1, up.get() ? "up" : "down", now, now));
        };
        List<HealthStatus> changes = Collections.synchronizedList(new ArrayList<>());
        CountDownLatch healthy = new CountDownLatch(1);
        CountDownLatch unhealthy = new CountDownLatch(1);
        HealthCheck check = HealthCheck.builder().tcp(80).interval(Duration.ofMillis(20)).retries(2).build();
        HealthMonitor m = new HealthMonitor(check, fake, TARGET, scheduler, Clock.systemUTC(), (h, changed) -> {
            if (changed != null) {
                changes.add(changed);
            }
            if (changed == HealthStatus.HEALTHY) {
                healthy.countDown();
            }
            if (changed == HealthStatus.UNHEALTHY) {
                unhealthy.countDown();
            }
        });
        assertThat(m.health().status()).isEqualTo(HealthStatus.STARTING);
        m.start();
        assertThat(healthy.await(10, TimeUnit.SECONDS)).isTrue();
        up.set(false);
        assertThat(unhealthy.await(10, TimeUnit.SECONDS)).isTrue();
        m.stop();
        Health h = m.health();
        assertThat(h.status()).isEqualTo(HealthStatus.UNHEALTHY);
        assertThat(h.failingStreak()).isGreaterThanOrEqualTo(2);
        assertThat(h.log()).hasSizeLessThanOrEqualTo(5).last().extracting(HealthResult::output).isEqualTo("down");
        assertThat(changes).startsWith(HealthStatus.HEALTHY, HealthStatus.UNHEALTHY);
        assertThat(probeThreads).hasSize(1); // one scheduler thread
    }

    @Test
    void aProbeThatNeverReportsCountsAsFailedAfterItsTimeout() throws Exception {
        CountDownLatch unhealthy = new CountDownLatch(1);
        HealthCheck check = HealthCheck.builder().tcp(80).interval(Duration.ofMillis(10))
                .timeout(Duration.ofMillis(10)).retries(1).build();
        HealthMonitor m = new HealthMonitor(check, (c, t, done) -> { }, TARGET, scheduler, Clock.systemUTC(),
                (h, changed) -> {
                    if (changed == HealthStatus.UNHEALTHY) {
                        unhealthy.countDown();
                    }
                });
        m.start();
        assertThat(unhealthy.await(10, TimeUnit.SECONDS)).isTrue();
        assertThat(m.health().log().get(0).output()).contains("did not report");
        m.stop();
    }

    @Test
    void manyContainersShareOneThreadAndAStoppedMonitorChecksNoMore() throws Exception {
        AtomicInteger runs = new AtomicInteger();
        Set<Thread> threads = ConcurrentHashMap.newKeySet();
        HealthProbe counting = (c, t, done) -> {
            runs.incrementAndGet();
            threads.add(Thread.currentThread());
            java.time.Instant now = java.time.Instant.now();
            done.accept(new HealthResult(0, "", now, now));
        };
        HealthCheck check = HealthCheck.builder().tcp(80).interval(Duration.ofMillis(5)).build();
        List<HealthMonitor> monitors = new ArrayList<>();
        for (int i = 0; i < 200; i++) {
            HealthMonitor m = new HealthMonitor(check, counting, TARGET, scheduler, Clock.systemUTC(), (h, ch) -> { });
            monitors.add(m);
            m.start();
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (runs.get() < 1000 && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertThat(runs.get()).isGreaterThanOrEqualTo(1000);
        assertThat(threads).hasSize(1);
        monitors.forEach(HealthMonitor::stop);
        CountDownLatch flushed = new CountDownLatch(1);
        scheduler.execute(flushed::countDown);
        assertThat(flushed.await(5, TimeUnit.SECONDS)).isTrue();
        int after = runs.get();
        Thread.sleep(100);
        assertThat(runs.get()).isEqualTo(after);
    }
}
