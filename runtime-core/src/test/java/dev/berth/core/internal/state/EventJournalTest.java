package dev.berth.core.internal.state;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.core.internal.linux.LinuxSyscalls;
import dev.berth.core.internal.sys.Syscalls;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The per-container event journal: each event once, in order, numbered without gaps, for every
 * follower from where it subscribed; torn and foreign lines skipped; bounded by rotation.
 */
class EventJournalTest {
    private static final Syscalls SYS = new LinuxSyscalls();
    private static final StateDocument.ProcessDoc RUN = new StateDocument.ProcessDoc(4242, 987654);
    private static final Instant T = Instant.parse("2026-12-02T17:00:00.123Z");

    @TempDir
    Path dir;

    @Test
    void aFollowerGetsOnlyWhatWasAppendedAfterItSubscribedInOrderWithEverythingKept() throws Exception {
        EventJournal j = new EventJournal(SYS, dir);
        j.append(RUN, "paused", T, Map.of());
        try (EventJournal.Follower f = j.follow()) {
            assertThat(f.poll()).isEmpty(); // nothing before it is replayed
            j.append(RUN, "resumed", T.plusMillis(1), Map.of());
            j.append(RUN, "health_status", T.plusMillis(2), Map.of("health_status", "unhealthy"));
            List<EventJournal.Entry> got = f.poll();
            assertThat(got).extracting(EventJournal.Entry::seq).containsExactly(2L, 3L);
            assertThat(got).extracting(EventJournal.Entry::type).containsExactly("resumed", "health_status");
            assertThat(got.get(1).attributes()).containsExactly(Map.entry("health_status", "unhealthy"));
            assertThat(got.get(1).run()).isEqualTo(RUN);
            assertThat(got.get(1).instant()).isEqualTo(T.plusMillis(2));
            assertThat(f.poll()).isEmpty(); // each once
        }
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(j.file()))).isEqualTo("rw-------");
    }

    @Test
    void aLineTornByAKilledWriterIsSkippedAndNumberingGoesOn() throws Exception {
        EventJournal j = new EventJournal(SYS, dir);
        j.append(RUN, "paused", T, Map.of());
        try (EventJournal.Follower f = j.follow()) {
            // a writer killed mid-append: half a line, no newline
            Files.writeString(j.file(), "{\"seq\":2,\"time\":\"2026-12-02T17:", StandardOpenOption.APPEND);
            assertThat(f.poll()).isEmpty(); // an unfinished line is not read yet
            j.append(RUN, "resumed", T, Map.of());
            // and a line that is no event at all, by whatever means
            Files.writeString(j.file(), "not json\n{\"seq\":9}\n", StandardOpenOption.APPEND);
            j.append(RUN, "paused", T, Map.of());
            assertThat(f.poll()).extracting(e -> e.seq() + " " + e.type()).containsExactly("2 resumed", "3 paused");
        }
        // a new follower starts after the last good line
        try (EventJournal.Follower g = j.follow()) {
            assertThat(g.lastSeq()).isEqualTo(3);
        }
    }

    @Test
    void rotationBoundsTheFileAndAFollowerReadsAcrossItWithoutLossOrRepeat() throws Exception {
        EventJournal j = new EventJournal(SYS, dir, 2048);
        List<Long> seen = new ArrayList<>();
        try (EventJournal.Follower f = j.follow()) {
            for (int i = 0; i < 300; i++) {
                j.append(RUN, "health_status", T, Map.of("health_status", i % 2 == 0 ? "healthy" : "unhealthy"));
                if (i % 7 == 0) { // polled now and then: some rotations happen between two polls
                    f.poll().forEach(e -> seen.add(e.seq()));
                }
                assertThat(Files.size(j.file())).isLessThan(2048 + 512);
            }
            f.poll().forEach(e -> seen.add(e.seq()));
        }
        assertThat(seen).containsExactlyElementsOf(LongStream.rangeClosed(1, 300).boxed().toList());
        assertThat(dir.resolve(EventJournal.ROTATED)).exists();
        assertThat(dir.resolve("events.jsonl.2")).doesNotExist();
        // the first line of each new file went on from the rotated one's last (no gap above)
        assertThat(Files.readString(dir.resolve(EventJournal.ROTATED)).lines().count()).isGreaterThan(5);
    }

    @Test
    void concurrentWritersOfSeveralRuntimesGetDistinctNumbersWithoutGaps() throws Exception {
        int writers = 4;
        int each = 150;
        ExecutorService pool = Executors.newFixedThreadPool(writers);
        EventJournal reader = new EventJournal(SYS, dir);
        try (EventJournal.Follower f = reader.follow()) {
            CountDownLatch go = new CountDownLatch(1);
            List<Future<?>> done = new ArrayList<>();
            for (int w = 0; w < writers; w++) {
                EventJournal own = new EventJournal(SYS, dir); // one per runtime: its own lock fds
                String name = "w" + w;
                done.add(pool.submit(() -> {
                    go.await();
                    for (int i = 0; i < each; i++) {
                        own.append(RUN, "paused", Instant.now(), Map.of("writer", name, "i", Integer.toString(i)));
                    }
                    return null;
                }));
            }
            go.countDown();
            List<EventJournal.Entry> got = new ArrayList<>();
            while (got.size() < writers * each) {
                got.addAll(f.poll()); // reading while they write: no half line is ever taken for a whole one
                for (Future<?> d : done) {
                    if (d.isDone()) {
                        d.get();
                    }
                }
            }
            assertThat(got).extracting(EventJournal.Entry::seq)
                    .containsExactlyElementsOf(LongStream.rangeClosed(1, writers * each).boxed().toList());
            for (int w = 0; w < writers; w++) { // each writer's own order is kept
                String name = "w" + w;
                assertThat(got.stream().filter(e -> e.attributes().get("writer").equals(name))
                        .map(e -> Integer.parseInt(e.attributes().get("i"))).toList()).isSorted().hasSize(each);
            }
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void aRemovedContainerHasNoJournal() throws Exception {
        Path gone = dir.resolve("removed");
        EventJournal j = new EventJournal(SYS, gone);
        assertThat(j.append(RUN, "paused", T, Map.of())).isEmpty();
        try (EventJournal.Follower f = j.follow()) {
            assertThat(f.poll()).isEmpty();
        }
        Files.createDirectory(gone);
        EventJournal k = new EventJournal(SYS, gone);
        try (EventJournal.Follower f = k.follow()) {
            k.append(RUN, "paused", T, Map.of());
            assertThat(f.poll()).hasSize(1); // a file made after the follower began is read from its start
            Files.delete(k.file());
            Files.delete(gone.resolve(EventJournal.LOCK));
            Files.delete(gone);
            assertThat(f.poll()).isEmpty();
            assertThat(k.append(RUN, "resumed", T, Map.of())).isEmpty();
        }
    }
}
