package dev.berth.core.internal.logs;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.core.LogEntry;
import dev.berth.core.LogQuery;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The reader of the monitor's json-file logs, on files written here as berth-log.c writes them. */
class LogReaderTest {
    @TempDir
    Path dir;

    private static String record(String log, String stream, int second) {
        String escaped = log.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n");
        return "{\"log\":\"" + escaped + "\",\"stream\":\"" + stream + "\",\"time\":\"2026-12-02T00:00:"
                + String.format("%02d", second) + ".000000001Z\"}\n";
    }

    private void write(String file, String... records) throws IOException {
        Files.writeString(dir.resolve(file), String.join("", records), StandardCharsets.UTF_8,
                StandardOpenOption.CREATE, StandardOpenOption.APPEND);
    }

    private List<String> read(LogQuery q) {
        try (Stream<LogEntry> s = new LogReader(dir, q, () -> true).stream()) {
            return s.map(e -> e.stream() + ":" + e.text()).toList();
        }
    }

    @Test
    void readsRotatedFilesOldestFirstAndJoinsThePiecesOfALongLine() throws IOException {
        write("container.log.2", record("a\n", "stdout", 1), record("long ", "stdout", 2));
        write("container.log.1", record("b\n", "stderr", 3), record("line\n", "stdout", 4));
        write("container.log", record("c\n", "stdout", 5), record("cut short at the e", "stdout", 6));
        write("container.log.x", record("not a rotated file\n", "stdout", 7));
        assertThat(read(LogQuery.ALL)).containsExactly("stdout:a", "stderr:b", "stdout:long line", "stdout:c",
                "stdout:cut short at the e");
    }

    @Test
    void tailSinceAndUntilSelectAsDockerLogsDoes() throws IOException {
        write("container.log", record("1\n", "stdout", 1), record("2\n", "stdout", 2), record("3\n", "stderr", 3),
                record("4\n", "stdout", 4));
        assertThat(read(LogQuery.builder().tail(2).build())).containsExactly("stderr:3", "stdout:4");
        assertThat(read(LogQuery.builder().tail(0).build())).isEmpty();
        assertThat(read(LogQuery.builder().since(Instant.parse("2026-12-02T00:00:02Z")).build()))
                .containsExactly("stdout:2", "stderr:3", "stdout:4");
        assertThat(read(LogQuery.builder().until(Instant.parse("2026-12-02T00:00:02Z")).build()))
                .containsExactly("stdout:1");
    }

    @Test
    void aDamagedRecordIsSkippedAndAMissingDirectoryIsAnEmptyLog() throws IOException {
        write("container.log", record("ok\n", "stdout", 1), "{\"log\":\"trunc", "\n", "garbage\n",
                record("still ok\n", "stdout", 2));
        assertThat(read(LogQuery.ALL)).containsExactly("stdout:ok", "stdout:still ok");
        assertThat(new LogReader(dir.resolve("none"), LogQuery.ALL, () -> true).stream().count()).isZero();
    }

    @Test
    void followingSurvivesARotationAndEndsOnceTheContainerEnded() throws Exception {
        write("container.log", record("1\n", "stdout", 1));
        AtomicBoolean ended = new AtomicBoolean();
        CompletableFuture<List<String>> seen = CompletableFuture.supplyAsync(() -> {
            try (Stream<LogEntry> s = new LogReader(dir, LogQuery.builder().follow(true).build(), ended::get).stream()) {
                return s.map(LogEntry::text).toList();
            }
        });
        Thread.sleep(300);
        write("container.log", record("2\n", "stdout", 2));
        Files.move(dir.resolve("container.log"), dir.resolve("container.log.1")); // what the monitor does
        Thread.sleep(300);
        write("container.log", record("3\n", "stdout", 3), record("4 without newline", "stdout", 4));
        Thread.sleep(300);
        assertThat(seen).isNotDone();
        ended.set(true);
        assertThat(seen.get(10, TimeUnit.SECONDS)).containsExactly("1", "2", "3", "4 without newline");
    }
}
