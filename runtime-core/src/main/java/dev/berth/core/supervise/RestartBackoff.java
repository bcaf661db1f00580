package dev.berth.core.supervise;

import java.time.Duration;

/**
 * The wait before a restart, as a pure value: 100 ms before the first, doubling with each restart
 * that follows a short run, capped at one minute, and back to 100 ms after an incarnation that ran
 * stably (at least 10 s), so a service that crashes once a day is not held back by yesterday's
 * crash loop (docker's rule; its cap and reset are the same).
 *
 * @param streak restarts in a row after short runs (0 before any)
 */
public record RestartBackoff(int streak) {
    public static final Duration INITIAL = Duration.ofMillis(100);
    public static final Duration CAP = Duration.ofMinutes(1);
    public static final Duration STABLE = Duration.ofSeconds(10);

    public RestartBackoff {
        if (streak < 0) {
            throw new IllegalArgumentException("streak: must be >= 0, got " + streak);
        }
    }

    public static RestartBackoff initial() {
        return new RestartBackoff(0);
    }

    /** After an incarnation that ran for {@code ran}: the backoff whose {@link #delay()} comes before the next start. */
    public RestartBackoff after(Duration ran) {
        return new RestartBackoff(ran.compareTo(STABLE) >= 0 ? 1 : Math.min(streak + 1, 64));
    }

    /** How long to wait before the restart this backoff was computed for (zero before any). */
    public Duration delay() {
        if (streak == 0) {
            return Duration.ZERO;
        }
        int doublings = streak - 1;
        if (doublings >= 20) { // 100 ms << 20 is far past the cap; avoids overflowing the shift
            return CAP;
        }
        Duration d = INITIAL.multipliedBy(1L << doublings);
        return d.compareTo(CAP) > 0 ? CAP : d;
    }
}
