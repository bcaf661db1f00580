package dev.berth.core;

import dev.berth.image.Healthcheck;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * How a container's health is checked, and how often: a command run inside it (docker's {@code CMD}
 * and {@code CMD-SHELL} forms, through {@link Container#exec}), a TCP connect, or an HTTP GET; the
 * last two are made from the JVM inside the container's network namespace, so they reach a port that
 * is only open inside it. Defaults as docker's: every 30 s, 30 s timeout, 3 retries, no start period.
 *
 * <pre>{@code
 * HealthCheck check = HealthCheck.builder().http(8080, "/health")
 *         .interval(Duration.ofSeconds(5)).retries(3).startPeriod(Duration.ofSeconds(10)).build();
 * }</pre>
 */
public final class HealthCheck {

    /** What a check does. */
    public enum Kind {
        /** Runs {@link #command()} in the container (docker's {@code CMD}); healthy on exit code 0. */
        EXEC,
        /** Runs {@link #command()}, {@code /bin/sh -c TEXT}, in the container (docker's {@code CMD-SHELL}). */
        SHELL,
        /** Connects to {@link #port()} on the container's loopback; healthy when the connection is accepted. */
        TCP,
        /** GET {@link #path()} on {@link #port()} over HTTP/1.1; healthy on a status in {@link #expectedStatus()}. */
        HTTP
    }

    /** An inclusive range of HTTP status codes. */
    public record StatusRange(int from, int to) {
        public StatusRange {
            if (from < 100 || to > 599 || from > to) {
                throw new IllegalArgumentException("healthCheck.expectedStatus: " + from + "-" + to
                        + " is not a range of HTTP status codes (100-599)");
            }
        }

        public boolean contains(int status) {
            return status >= from && status <= to;
        }
    }

    public static final Duration DEFAULT_INTERVAL = Duration.ofSeconds(30);
    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(30);
    public static final int DEFAULT_RETRIES = 3;
    /** 2xx and 3xx. */
    public static final StatusRange DEFAULT_HTTP_STATUS = new StatusRange(200, 399);

    private final Kind kind;
    private final List<String> command;
    private final int port;
    private final String path;
    private final StatusRange expectedStatus;
    private final Duration interval;
    private final Duration timeout;
    private final int retries;
    private final Duration startPeriod;

    private HealthCheck(Builder b) {
        this.kind = b.kind;
        this.command = b.command;
        this.port = b.port;
        this.path = b.path;
        this.expectedStatus = b.expectedStatus;
        this.interval = b.interval;
        this.timeout = b.timeout;
        this.retries = b.retries;
        this.startPeriod = b.startPeriod;
    }

    public static Builder builder() {
        return new Builder();
    }

    public Builder toBuilder() {
        Builder b = new Builder();
        b.kind = kind;
        b.command = command;
        b.port = port;
        b.path = path;
        b.expectedStatus = expectedStatus;
        b.interval = interval;
        b.timeout = timeout;
        b.retries = retries;
        b.startPeriod = startPeriod;
        return b;
    }

    /**
     * The image config's {@code Healthcheck}: {@code ["CMD", argv...]}, {@code ["CMD-SHELL", text]};
     * empty for {@code ["NONE"]} (the image disables checks) or no test. Zero durations and retries
     * take docker's defaults.
     *
     * @throws IllegalArgumentException naming {@code healthCheck.test} for a test of another form
     */
    public static Optional<HealthCheck> fromImage(Healthcheck image) {
        List<String> test = image.test();
        if (test.isEmpty() || test.get(0).equals("NONE")) {
            return Optional.empty();
        }
        Builder b = builder();
        switch (test.get(0)) {
            case "CMD" -> b.command(test.subList(1, test.size()).toArray(String[]::new));
            case "CMD-SHELL" -> {
                if (test.size() != 2) {
                    throw new IllegalArgumentException("healthCheck.test: CMD-SHELL takes one command text, got "
                            + (test.size() - 1));
                }
                b.shell(test.get(1));
            }
            default -> throw new IllegalArgumentException("healthCheck.test: \"" + test.get(0)
                    + "\" is not CMD, CMD-SHELL or NONE");
        }
        if (!image.interval().isZero()) {
            b.interval(image.interval());
        }
        if (!image.timeout().isZero()) {
            b.timeout(image.timeout());
        }
        if (!image.startPeriod().isZero()) {
            b.startPeriod(image.startPeriod());
        }
        if (image.retries() > 0) {
            b.retries(image.retries());
        }
        return Optional.of(b.build());
    }

    public Kind kind() {
        return kind;
    }

    /** For {@link Kind#EXEC} the argv; for {@link Kind#SHELL} {@code ["/bin/sh", "-c", text]}; empty otherwise. */
    public List<String> command() {
        return command;
    }

    /** For TCP and HTTP: the port on the container's loopback; 0 otherwise. */
    public int port() {
        return port;
    }

    /** For HTTP: the request path, starting with {@code /}; empty otherwise. */
    public String path() {
        return path;
    }

    /** For HTTP: the statuses that count as healthy (2xx and 3xx unless set). */
    public StatusRange expectedStatus() {
        return expectedStatus;
    }

    public Duration interval() {
        return interval;
    }

    public Duration timeout() {
        return timeout;
    }

    /** How many failures in a row make the container unhealthy. */
    public int retries() {
        return retries;
    }

    /** How long after a start failures do not count (until the first success). */
    public Duration startPeriod() {
        return startPeriod;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof HealthCheck h && h.kind == kind && h.command.equals(command) && h.port == port
                && h.path.equals(path) && h.expectedStatus.equals(expectedStatus) && h.interval.equals(interval)
                && h.timeout.equals(timeout) && h.retries == retries && h.startPeriod.equals(startPeriod);
    }

    @Override
    public int hashCode() {
        return Objects.hash(kind, command, port, path, expectedStatus, interval, timeout, retries, startPeriod);
    }

    @Override
    public String toString() {
        String what = switch (kind) {
            case EXEC, SHELL -> String.join(" ", command);
            case TCP -> "tcp:" + port;
            case HTTP -> "http://localhost:" + port + path;
        };
        return "HealthCheck{" + what + ", interval=" + interval + ", timeout=" + timeout + ", retries=" + retries
                + ", startPeriod=" + startPeriod + "}";
    }

    /** Builds a {@link HealthCheck}; one of command, shell, tcp and http (the last one set). Not thread-safe. */
    public static final class Builder {
        private Kind kind;
        private List<String> command = List.of();
        private int port;
        private String path = "";
        private StatusRange expectedStatus = DEFAULT_HTTP_STATUS;
        private Duration interval = DEFAULT_INTERVAL;
        private Duration timeout = DEFAULT_TIMEOUT;
        private int retries = DEFAULT_RETRIES;
        private Duration startPeriod = Duration.ZERO;

        private Builder() {}

        /** docker's {@code CMD}: runs {@code argv} in the container. */
        public Builder command(String... argv) {
            kind(Kind.EXEC, List.of(argv), 0, ""); // null elements are refused here
            return this;
        }

        /** docker's {@code CMD-SHELL}: runs {@code /bin/sh -c text} in the container. */
        public Builder shell(String text) {
            kind(Kind.SHELL, List.of("/bin/sh", "-c", Objects.requireNonNull(text, "healthCheck.shell")), 0, "");
            return this;
        }

        public Builder tcp(int port) {
            kind(Kind.TCP, List.of(), port, "");
            return this;
        }

        public Builder http(int port, String path) {
            kind(Kind.HTTP, List.of(), port, path);
            return this;
        }

        /** For HTTP: healthy on a status from {@code from} to {@code to}, inclusive. */
        public Builder expectedStatus(int from, int to) {
            expectedStatus = new StatusRange(from, to);
            return this;
        }

        public Builder interval(Duration d) {
            interval = d;
            return this;
        }

        public Builder timeout(Duration d) {
            timeout = d;
            return this;
        }

        public Builder retries(int n) {
            retries = n;
            return this;
        }

        public Builder startPeriod(Duration d) {
            startPeriod = d;
            return this;
        }

        /** @throws IllegalArgumentException naming the field ({@code healthCheck.interval}, ...) */
        public HealthCheck build() {
            if (kind == null) {
                throw new IllegalArgumentException("healthCheck: one of command, shell, tcp or http must be set");
            }
            if ((kind == Kind.EXEC || kind == Kind.SHELL) && (command.isEmpty() || command.get(0).isEmpty()
                    || command.stream().anyMatch(s -> s.indexOf('\0') >= 0))) {
                throw new IllegalArgumentException("healthCheck.command: must be a non-empty argv without NUL bytes");
            }
            if ((kind == Kind.TCP || kind == Kind.HTTP) && (port < 1 || port > 65535)) {
                throw new IllegalArgumentException("healthCheck.port: " + port + " is not a TCP port (1-65535)");
            }
            if (kind == Kind.HTTP && (path == null || !path.startsWith("/") || !path.chars().allMatch(
                    c -> c > 0x20 && c < 0x7f))) {
                throw new IllegalArgumentException("healthCheck.path: \"" + path
                        + "\" must start with / and hold printable ASCII without spaces");
            }
            positive("healthCheck.interval", interval);
            positive("healthCheck.timeout", timeout);
            if (startPeriod == null || startPeriod.isNegative()) {
                throw new IllegalArgumentException("healthCheck.startPeriod: must be >= 0, got " + startPeriod);
            }
            if (retries < 1) {
                throw new IllegalArgumentException("healthCheck.retries: must be >= 1, got " + retries);
            }
            return new HealthCheck(this);
        }

        /** Each kind replaces the one set before: what a check does is one thing. */
        private void kind(Kind k, List<String> argv, int p, String httpPath) {
            kind = k;
            command = argv;
            port = p;
            path = httpPath;
        }

        private static void positive(String field, Duration d) {
            if (d == null || d.isNegative() || d.isZero() || d.toMillis() < 1) {
                throw new IllegalArgumentException(field + ": must be at least 1 ms, got " + d);
            }
        }
    }
}
