package dev.berth.core.supervise;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class HealthSchedulerTest {

    @Test
    void aStrandedThreadRunsNothingElseAndANewThreadTakesOverAfterItsSetup() throws Exception {
        AtomicInteger setups = new AtomicInteger();
        List<Thread> setupThreads = new CopyOnWriteArrayList<>();
        HealthScheduler s = new HealthScheduler("test-stranded", () -> {
            setups.incrementAndGet();
            setupThreads.add(Thread.currentThread());
        });
        try {
            CompletableFuture<Thread> first = new CompletableFuture<>();
            s.execute(() -> first.complete(Thread.currentThread()));
            Thread t1 = first.get(5, TimeUnit.SECONDS);
            CountDownLatch later = new CountDownLatch(1);
            List<Thread> laterThreads = new CopyOnWriteArrayList<>();
            s.schedule(Duration.ofMillis(200), () -> {
                laterThreads.add(Thread.currentThread());
                later.countDown();
            });
            AtomicInteger afterStranding = new AtomicInteger();
            s.execute(() -> {
                throw new StrandedThreadError("setns back: test", null);
            });
            s.execute(() -> {
                if (Thread.currentThread() == t1) {
                    afterStranding.incrementAndGet(); // must never happen: the stranded thread ran on
                }
            });
            assertThat(later.await(10, TimeUnit.SECONDS)).isTrue();
            t1.join(5000);
            assertThat(t1.isAlive()).isFalse();
            assertThat(laterThreads.get(0)).isNotSameAs(t1);
            assertThat(afterStranding.get()).isZero();
            assertThat(setups.get()).isEqualTo(2);
            assertThat(setupThreads.get(1)).isSameAs(laterThreads.get(0)); // set up before it ran anything
        } finally {
            s.close();
        }
    }

    @Test
    void aFailingTaskDoesNotStopTheSchedulerAndACancelledTimerNeverRuns() throws Exception {
        HealthScheduler s = new HealthScheduler("test-failing", () -> { });
        try {
            s.execute(() -> {
                throw new IllegalStateException("task bug");
            });
            AtomicInteger ran = new AtomicInteger();
            HealthScheduler.Cancellable c = s.schedule(Duration.ofMillis(100), ran::incrementAndGet);
            c.cancel();
            CountDownLatch done = new CountDownLatch(1);
            s.schedule(Duration.ofMillis(300), done::countDown);
            assertThat(done.await(10, TimeUnit.SECONDS)).isTrue();
            assertThat(ran.get()).isZero();
        } finally {
            s.close();
        }
    }
}
