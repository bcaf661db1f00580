package dev.berth.examples.bench;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import dev.berth.core.Container;
import dev.berth.core.ContainerRuntime;
import dev.berth.core.ContainerSpec;
import dev.berth.core.LogConfig;
import dev.berth.core.Stdio;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Log throughput: a container writing 100-byte lines to stdout as fast as it can (busybox
 * {@code yes}) for S seconds, its output captured by its monitor into {@code container.log}
 * (json-file records), against the same writer in the same kind of container with stdout a file on
 * the host ({@code Stdio.file}). Both in the same run, alternating, R rounds each; medians reported.
 *
 * <p>Payload captured is what the records' {@code log} fields hold (parsed with Jackson), so the
 * json-file's own overhead (about 70 bytes a record) is not counted as throughput; the log file's
 * own rate is reported beside it. The log is one file large enough for the whole run: rotation
 * would throw away what is to be counted (it renames a file every 20 MiB by default, which costs
 * nothing next to the writes).
 *
 * <p>Usage (root): {@code LogThroughputBenchmark ROOTFS BUSYBOX [SECONDS] [ROUNDS] [REPORT.md]}
 */
public final class LogThroughputBenchmark {

    /** 99 characters and the newline yes adds: a 100-byte line. */
    static final String LINE = "0123456789".repeat(9) + "abcdefghi";

    /** One timed run: payload bytes, lines, bytes of the file itself, seconds. */
    record Run(long payload, long lines, long fileBytes, double seconds) {
        double mbPerSec() {
            return payload / seconds / 1e6;
        }

        double linesPerSec() {
            return lines / seconds;
        }

        double fileMbPerSec() {
            return fileBytes / seconds / 1e6;
        }
    }

    public static void main(String[] args) throws Exception {
        Path source = Path.of(args[0]).toAbsolutePath();
        Path busybox = Path.of(args[1]);
        int seconds = args.length > 2 ? Integer.parseInt(args[2]) : 10;
        int rounds = args.length > 3 ? Integer.parseInt(args[3]) : 3;
        Path work = Files.createTempDirectory("berth-log-bench");
        Path rootfs = DensityBenchmark.rootfsWithBusybox(source, busybox, work);
        Map<String, List<Run>> runs = new LinkedHashMap<>();
        runs.put(CAPTURED, new ArrayList<>());
        runs.put(DIRECT, new ArrayList<>());
        try (ContainerRuntime runtime = ContainerRuntime.builder().stateRoot(work.resolve("state"))
                .storageRoot(work.resolve("storage")).build()) {
            ContainerSpec writer = ContainerSpec.builder().rootfs(rootfs).command("/bin/busybox", "yes", LINE).build();
            // one file for the whole run: see the class comment
            ContainerSpec captured = writer.toBuilder().logging(LogConfig.of(1L << 40, 1)).build();
            // a warm-up round of each, one second, not counted
            captured(runtime, captured, work, 1, "warm");
            direct(runtime, writer, work, 1, "warm");
            for (int r = 0; r < rounds; r++) {
                // alternating which goes first, so that the drift of a shared machine falls on both alike
                for (int k = 0; k < 2; k++) {
                    boolean capture = (r + k) % 2 == 0;
                    Run run = capture ? captured(runtime, captured, work, seconds, "r" + r)
                            : direct(runtime, writer, work, seconds, "r" + r);
                    System.err.printf(Locale.ROOT, "round %d %s: %.1f MB/s, %.0f lines/s%n", r,
                            capture ? CAPTURED : DIRECT, run.mbPerSec(), run.linesPerSec());
                    runs.get(capture ? CAPTURED : DIRECT).add(run);
                }
            }
        }
        String report = report(runs, seconds, rounds);
        System.out.print(report);
        if (args.length > 4) {
            Files.writeString(Path.of(args[4]), report);
        }
        DensityBenchmark.delete(work);
    }

    static final String CAPTURED = "berth, captured by the monitor (json-file)";
    static final String DIRECT = "same writer, stdout a file (Stdio.file)";

    static Run captured(ContainerRuntime runtime, ContainerSpec spec, Path work, int seconds, String tag) throws Exception {
        String id = "log-" + tag;
        long t0 = System.nanoTime();
        try (Container c = runtime.start(id, spec)) {
            Thread.sleep(seconds * 1000L);
            c.kill();
            double s = (System.nanoTime() - t0) / 1e9;
            c.onExit().join(); // the monitor has then drained the pipes and written the rest
            Path log = work.resolve("storage/containers").resolve(id).resolve("container.log");
            long[] counted = count(log);
            return new Run(counted[0], counted[1], Files.size(log), s);
        }
    }

    static Run direct(ContainerRuntime runtime, ContainerSpec spec, Path work, int seconds, String tag) throws Exception {
        Path out = work.resolve("direct-" + tag + ".out");
        long t0 = System.nanoTime();
        try (Container c = runtime.start(spec.toBuilder().stdout(Stdio.file(out)).build())) {
            Thread.sleep(seconds * 1000L);
            c.kill();
            double s = (System.nanoTime() - t0) / 1e9;
            c.onExit().join();
            long size = Files.size(out);
            Files.delete(out); // gigabytes: not kept for the next round
            return new Run(size, size / (LINE.length() + 1), size, s);
        }
    }

    /** Payload bytes and whole lines in a json-file log: the {@code log} fields, streamed through Jackson. */
    static long[] count(Path log) throws IOException {
        long bytes = 0;
        long lines = 0;
        try (InputStream in = Files.newInputStream(log); JsonParser p = new JsonFactory().createParser(in)) {
            for (JsonToken t; (t = p.nextToken()) != null;) {
                if (t == JsonToken.FIELD_NAME && p.currentName().equals("log")) {
                    p.nextToken();
                    String text = p.getText();
                    bytes += text.length(); // the writer's lines are ASCII: characters are bytes
                    if (text.endsWith("\n")) {
                        lines++;
                    }
                }
            }
        }
        return new long[] {bytes, lines};
    }

    static double median(List<Run> runs, java.util.function.ToDoubleFunction<Run> f) {
        return Stats.of(runs.stream().mapToDouble(f).toArray()).p50();
    }

    static String report(Map<String, List<Run>> runs, int seconds, int rounds) {
        StringBuilder b = new StringBuilder();
        b.append(String.format(Locale.ROOT, "Log throughput, busybox `yes` of 100-byte lines for %d s, %d rounds each,"
                + " alternating (%s, %d cores)%n%n", seconds, rounds, LocalDate.now(), Runtime.getRuntime().availableProcessors()));
        b.append("| contender | payload MB/s (median) | lines/s (median) | file MB/s (median) | payload MB/s, each round |\n"
                + "|---|---:|---:|---:|---|\n");
        runs.forEach((name, rs) -> b.append(String.format(Locale.ROOT, "| %s | %.1f | %.0f | %.1f | %s |%n", name,
                median(rs, Run::mbPerSec), median(rs, Run::linesPerSec), median(rs, Run::fileMbPerSec),
                String.join(" ", rs.stream().map(r -> String.format(Locale.ROOT, "%.1f", r.mbPerSec())).toList()))));
        double ratio = median(runs.get(CAPTURED), Run::mbPerSec) / median(runs.get(DIRECT), Run::mbPerSec);
        b.append(String.format(Locale.ROOT, "%n- captured / direct (payload MB/s medians) = %.2f (target ≥ 0.5)%n", ratio));
        return b.toString();
    }
}
