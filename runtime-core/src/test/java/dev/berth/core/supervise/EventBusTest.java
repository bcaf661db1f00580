package dev.berth.core.supervise;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.core.ContainerEvent;
import dev.berth.core.ExitStatus;
import dev.berth.core.Subscription;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class EventBusTest {
    private final ExecutorService pool = Executors.newFixedThreadPool(4);

    @AfterEach
    void stop() {
        pool.shutdownNow();
    }

    private static ContainerEvent event(String id, int n) {
        return ContainerEvent.of(id, ContainerEvent.Type.HEALTH_STATUS, Instant.EPOCH, Map.of("n", Integer.toString(n)));
    }

    @Test
    void concurrentEmittersDeliverEachEventExactlyOnceInOrderPerContainer() throws Exception {
        EventBus bus = new EventBus(pool);
        int containers = 8;
        int perContainer = 2000;
        Map<String, List<Integer>> seen = new ConcurrentHashMap<>();
        Map<String, List<Integer>> seenByOwn = new ConcurrentHashMap<>();
        AtomicInteger total = new AtomicInteger();
        Set<Thread> listenerThreads = ConcurrentHashMap.newKeySet();
        bus.subscribe(null, e -> {
            listenerThreads.add(Thread.currentThread());
            seen.computeIfAbsent(e.id(), k -> Collections.synchronizedList(new ArrayList<>()))
                    .add(Integer.parseInt(e.attributes().get("n")));
            total.incrementAndGet();
        }, null);
        bus.subscribe("c3", e -> seenByOwn.computeIfAbsent(e.id(), k -> Collections.synchronizedList(new ArrayList<>()))
                .add(Integer.parseInt(e.attributes().get("n"))), Executors.newSingleThreadExecutor());
        CountDownLatch go = new CountDownLatch(1);
        List<Thread> emitters = new ArrayList<>();
        for (int c = 0; c < containers; c++) {
            String id = "c" + c;
            Thread t = new Thread(() -> {
                try {
                    go.await();
                } catch (InterruptedException e) {
                    return;
                }
                for (int i = 0; i < perContainer; i++) {
                    bus.publish(event(id, i));
                }
            });
            t.start();
            emitters.add(t);
        }
        go.countDown();
        for (Thread t : emitters) {
            t.join();
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (total.get() < containers * perContainer && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        Thread.sleep(50); // nothing more may come
        assertThat(total.get()).isEqualTo(containers * perContainer);
        List<Integer> expected = new ArrayList<>();
        for (int i = 0; i < perContainer; i++) {
            expected.add(i);
        }
        for (int c = 0; c < containers; c++) {
            assertThat(seen.get("c" + c)).as("c" + c).containsExactlyElementsOf(expected);
        }
        while (seenByOwn.getOrDefault("c3", List.of()).size() < perContainer && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertThat(seenByOwn.keySet()).containsExactly("c3");
        assertThat(seenByOwn.get("c3")).containsExactlyElementsOf(expected);
        assertThat(listenerThreads).doesNotContainAnyElementsOf(emitters);
    }

    @Test
    void aClosedSubscriptionGetsNothingMoreAndClosingTwiceIsHarmless() throws Exception {
        EventBus bus = new EventBus(Runnable::run);
        List<ContainerEvent> got = new ArrayList<>();
        Subscription s = bus.subscribe(null, got::add, null);
        bus.publish(event("a", 1));
        s.close();
        s.close();
        bus.publish(event("a", 2));
        assertThat(got).hasSize(1);
        assertThat(bus.listenerCount()).isZero();
    }

    @Test
    void aFailingListenerDoesNotStopTheOthersOrItsLaterEvents() {
        EventBus bus = new EventBus(Runnable::run);
        List<Integer> got = new ArrayList<>();
        bus.subscribe(null, e -> {
            throw new IllegalStateException("listener bug");
        }, null);
        bus.subscribe(null, e -> got.add(Integer.parseInt(e.attributes().get("n"))), null);
        bus.publish(event("a", 1));
        bus.publish(event("a", 2));
        assertThat(got).containsExactly(1, 2);
    }

    @Test
    void anExitedEventCarriesItsStatus() {
        ContainerEvent e = ContainerEvent.exited("a", Instant.EPOCH, ExitStatus.exited(3), Map.of());
        assertThat(e.exitStatus()).contains(ExitStatus.exited(3));
        assertThat(e.type().label()).isEqualTo("exited");
        assertThat(ContainerEvent.Type.HEALTH_STATUS.label()).isEqualTo("health_status");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> ContainerEvent.of("a", ContainerEvent.Type.EXITED,
                Instant.EPOCH, Map.of())).hasMessageStartingWith("exitStatus:");
    }
}
