package dev.berth.core;

import java.time.Instant;
import java.util.Objects;

/**
 * One line a container wrote to stdout or stderr, as its log keeps it ({@link Container#logs}).
 *
 * @param time   when the monitor read it (of a line written in pieces: its first piece)
 * @param stream {@code stdout} or {@code stderr}
 * @param text   the line without its newline; the last line of a stream that ended without one, as it is
 */
public record LogEntry(Instant time, String stream, String text) {
    public LogEntry {
        Objects.requireNonNull(time, "time");
        Objects.requireNonNull(stream, "stream");
        Objects.requireNonNull(text, "text");
    }

    public boolean isStderr() {
        return "stderr".equals(stream);
    }

    /**
     * A listener for {@link Container#onLog} that logs each line through SLF4J under {@code loggerName}:
     * stdout at INFO, stderr at WARN, the line as the message's only argument (never as a format).
     */
    public static java.util.function.Consumer<LogEntry> slf4j(String loggerName) {
        org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(java.util.Objects.requireNonNull(loggerName,
                "loggerName"));
        return e -> {
            if (e.isStderr()) {
                log.warn("{}", e.text());
            } else {
                log.info("{}", e.text());
            }
        };
    }
}
