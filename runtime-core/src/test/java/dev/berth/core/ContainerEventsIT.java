package dev.berth.core;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.core.testing.BusyboxRootfs;
import dev.berth.core.testing.ContainerTestSupport;
import dev.berth.testing.RequiresCgroups;
import dev.berth.testing.RequiresRoot;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import jdk.jfr.Recording;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordingFile;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Events of real containers: each exactly once, in order, off the runtime's own threads, and in JFR. */
@RequiresRoot
@RequiresCgroups
class ContainerEventsIT extends ContainerTestSupport {
    static Path rootfs;

    @BeforeAll
    static void busybox() throws Exception {
        rootfs = BusyboxRootfs.create(tmp.resolve("busybox-root"));
    }

    private static List<String> types(List<ContainerEvent> events, String id) {
        synchronized (events) {
            return events.stream().filter(e -> e.id().equals(id)).map(e -> e.type().label()).toList();
        }
    }

    @Test
    void aStartPauseResumeStopSequenceIsDeliveredOnceEachInOrderAndRecordedInJfr() throws Exception {
        List<ContainerEvent> all = Collections.synchronizedList(new ArrayList<>());
        List<ContainerEvent> own = Collections.synchronizedList(new ArrayList<>());
        List<ContainerEvent> onMine = Collections.synchronizedList(new ArrayList<>());
        Set<String> threads = ConcurrentHashMap.newKeySet();
        ExecutorService mine = Executors.newSingleThreadExecutor(r -> new Thread(r, "events-test"));
        Path jfr = tmp.resolve("events.jfr");
        String id;
        try (Recording rec = new Recording()) {
            rec.enable("dev.berth.ContainerEvent");
            rec.start();
            try (Subscription s = runtime.events(e -> {
                threads.add(Thread.currentThread().getName());
                all.add(e);
            }); Subscription s2 = runtime.events(onMine::add, mine)) {
                Container c = runtime.start(ContainerSpec.builder().rootfs(rootfs).command("/bin/sleep", "1000")
                        .stdout(Stdio.discard()).build());
                id = c.id();
                try (Subscription own1 = c.events(own::add)) {
                    c.pause();
                    c.resume();
                    c.stop(Duration.ofSeconds(5));
                    c.close();
                    // deliveries are asynchronous: each subscription gets its last event in its own time
                    RestartIT.waitFor(() -> types(all, id).contains("destroyed") && types(onMine, id).contains("destroyed")
                            && types(own, id).contains("destroyed"));
                }
            }
            rec.stop();
            rec.dump(jfr);
        } finally {
            mine.shutdownNow();
        }
        List<String> expected = List.of("created", "started", "paused", "resumed", "exited", "destroyed");
        assertThat(types(all, id)).containsExactlyElementsOf(expected);
        assertThat(types(onMine, id)).containsExactlyElementsOf(expected);
        // subscribed to the container after its start: what came after
        assertThat(types(own, id)).containsExactly("paused", "resumed", "exited", "destroyed");
        ContainerEvent exited = all.stream().filter(e -> e.id().equals(id) && e.type() == ContainerEvent.Type.EXITED)
                .findFirst().orElseThrow();
        assertThat(exited.exitStatus()).isPresent();
        assertThat(exited.exitStatus().get().terminatingSignal()).hasValue(15);
        assertThat(threads).noneMatch(t -> t.startsWith("berth-reactor") || t.startsWith("berth-cleanup")
                || t.startsWith("berth-health") || t.startsWith("berth-restart"));
        // a recording groups events by the thread that committed them: in time order they are the sequence
        List<String> recorded = RecordingFile.readAllEvents(jfr).stream()
                .filter(e -> e.getEventType().getName().equals("dev.berth.ContainerEvent") && id.equals(e.getString("id")))
                .sorted(java.util.Comparator.comparing(RecordedEvent::getStartTime))
                .map(e -> e.getString("type")).toList();
        assertThat(recorded).containsExactlyElementsOf(expected);
    }

    @Test
    void restartsAreEventsToo() throws Exception {
        List<ContainerEvent> all = Collections.synchronizedList(new ArrayList<>());
        try (Subscription s = runtime.events(all::add);
             Container c = runtime.start(ContainerSpec.builder().rootfs(rootfs).command("/bin/sh", "-c", "exit 2")
                     .stdout(Stdio.discard()).restart(RestartPolicy.onFailure(1)).build())) {
            c.onExit().join();
            RestartIT.waitFor(() -> types(all, c.id()).size() >= 7);
            assertThat(types(all, c.id())).containsExactly("created", "started", "exited", "restarting", "created",
                    "started", "exited");
        }
    }

    @Test
    void anOomKillIsAnEventBeforeTheExit() throws Exception {
        List<ContainerEvent> all = Collections.synchronizedList(new ArrayList<>());
        long mib = 1024 * 1024;
        try (Subscription s = runtime.events(all::add);
             Container c = runtime.start(probe("hog", "200").stdout(Stdio.discard())
                     .resources(dev.berth.cgroups.Resources.builder().memoryMax(32 * mib).memorySwap(32 * mib).build())
                     .build())) {
            ExitStatus status = c.onExit().get(60, java.util.concurrent.TimeUnit.SECONDS);
            assertThat(status.oomKilled()).isTrue();
            RestartIT.waitFor(() -> types(all, c.id()).contains("exited"));
            List<String> types = types(all, c.id());
            assertThat(types).contains("oom");
            assertThat(types.indexOf("oom")).isLessThan(types.indexOf("exited"));
            assertThat(types.stream().filter("exited"::equals).count()).isEqualTo(1);
            ContainerEvent exited = all.stream().filter(e -> e.id().equals(c.id())
                    && e.type() == ContainerEvent.Type.EXITED).findFirst().orElseThrow();
            assertThat(exited.exitStatus().orElseThrow().oomKilled()).isTrue();
        }
    }
}
