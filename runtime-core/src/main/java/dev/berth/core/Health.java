package dev.berth.core;

import java.util.List;
import java.util.Objects;

/**
 * A snapshot of a container's health: its status, how many checks in a row failed, and the last
 * results (at most {@value #MAX_LOG}, oldest first, as docker keeps them).
 */
public record Health(HealthStatus status, int failingStreak, List<HealthResult> log) {
    /** How many results are kept (docker's {@code maxLogEntries}). */
    public static final int MAX_LOG = 5;

    public Health {
        Objects.requireNonNull(status, "status");
        if (failingStreak < 0) {
            throw new IllegalArgumentException("failingStreak: must be >= 0, got " + failingStreak);
        }
        log = List.copyOf(log);
        if (log.size() > MAX_LOG) {
            log = log.subList(log.size() - MAX_LOG, log.size());
        }
    }

    /** Before the first check ended. */
    public static Health starting() {
        return new Health(HealthStatus.STARTING, 0, List.of());
    }
}
