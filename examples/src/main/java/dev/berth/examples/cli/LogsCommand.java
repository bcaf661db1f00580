package dev.berth.examples.cli;

import dev.berth.core.Container;
import dev.berth.core.LogEntry;
import dev.berth.core.LogQuery;
import java.io.PrintWriter;
import java.time.Instant;
import java.util.List;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code berth logs}: what a container wrote, from its captured log files: stdout lines to stdout,
 * stderr lines to stderr, as docker's; {@code -f} follows until the container has ended and
 * everything is read (or Ctrl-C).
 */
@Command(name = "logs", description = "Show a container's output (its captured stdout and stderr).", sortOptions = false)
final class LogsCommand extends ContainerCommand {
    @Option(names = {"-f", "--follow"}, description = "Keep printing new output until the container has ended.")
    boolean follow;

    @Option(names = {"-n", "--tail"}, paramLabel = "N", description = "Only the last N lines (default: all).")
    String tail = "all";

    @Option(names = "--since", paramLabel = "T",
            description = "Only lines since T: RFC 3339 (2026-12-02T01:00:00Z), a duration before now (10m, 1h30m) or Unix seconds.")
    String since;

    @Option(names = {"-t", "--timestamps"}, description = "Prefix each line with its time (RFC 3339, nanoseconds).")
    boolean timestamps;

    @Parameters(arity = "1", paramLabel = "CONTAINER", description = "Container id or unique id prefix.")
    String name;

    @Override
    int run(Containers containers) throws Exception {
        LogQuery query = query(Instant.now());
        String id = targets(containers.list(), List.of(name), (c, n) -> null).keySet().iterator().next();
        PrintWriter stderr = err();
        try (Container c = containers.open(id); Stream<LogEntry> entries = c.logs(query)) {
            entries.forEach(e -> {
                PrintWriter w = e.isStderr() ? stderr : out();
                w.print(line(e, timestamps));
                w.flush();
            });
        }
        return 0;
    }

    LogQuery query(Instant now) {
        LogQuery.Builder b = LogQuery.builder().follow(follow);
        if (!tail.equals("all")) {
            int n;
            try {
                n = Integer.parseInt(tail);
            } catch (NumberFormatException e) {
                throw usage("--tail: expected a number of lines or all, got \"" + tail + "\"");
            }
            if (n < 0) {
                throw usage("--tail: expected a number of lines >= 0 or all, got " + n);
            }
            b.tail(n);
        }
        if (since != null) {
            try {
                b.since(HumanTime.since(since, now));
            } catch (IllegalArgumentException e) {
                throw usage(e.getMessage());
            }
        }
        return b.build();
    }

    /** The entry as printed: its text and a newline, with its time first when asked (docker's RFC 3339, nanoseconds). */
    static String line(LogEntry e, boolean timestamps) {
        return timestamps ? RFC3339_NANO.format(e.time()) + " " + e.text() + "\n" : e.text() + "\n";
    }

    private static final java.time.format.DateTimeFormatter RFC3339_NANO = java.time.format.DateTimeFormatter
            .ofPattern("yyyy-MM-dd'T'HH:mm:ss.nnnnnnnnnX").withZone(java.time.ZoneOffset.UTC);

    private picocli.CommandLine.ParameterException usage(String message) {
        return new picocli.CommandLine.ParameterException(spec.commandLine(), message);
    }
}
