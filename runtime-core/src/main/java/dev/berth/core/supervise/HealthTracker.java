package dev.berth.core.supervise;

import dev.berth.core.Health;
import dev.berth.core.HealthCheck;
import dev.berth.core.HealthResult;
import dev.berth.core.HealthStatus;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * Docker's health rules as a pure state machine over check results: {@code starting} until the
 * first success ({@code healthy}) or until {@code retries} failures in a row
 * ({@code unhealthy}); a failure that started within the start period does not count while the
 * container has not been healthy yet; a success resets the streak. Not thread-safe: one health
 * scheduler thread feeds it.
 */
public final class HealthTracker {
    private final HealthCheck check;
    private final Instant startedAt;
    private Health health = Health.starting();
    private boolean everHealthy;

    /** @param startedAt when the incarnation being checked started (the start period counts from it) */
    public HealthTracker(HealthCheck check, Instant startedAt) {
        this.check = check;
        this.startedAt = startedAt;
    }

    public Health health() {
        return health;
    }

    /**
     * Goes on from {@code status} (checks taken over from another handle or process, which reported
     * it): a first result that agrees with it is no change; one that is not {@code starting} counts as
     * having been past the start period's grace.
     */
    public void resumeFrom(HealthStatus status) {
        health = new Health(status, 0, List.of());
        everHealthy = status != HealthStatus.STARTING;
    }

    /** Records a result; returns the status it changed to, or null when it did not change. */
    public HealthStatus record(HealthResult r) {
        List<HealthResult> log = new ArrayList<>(health.log());
        log.add(r);
        HealthStatus before = health.status();
        HealthStatus status = before;
        int streak;
        if (r.healthy()) {
            streak = 0;
            status = HealthStatus.HEALTHY;
            everHealthy = true;
        } else if (!everHealthy && r.start().isBefore(startedAt.plus(check.startPeriod()))) {
            streak = health.failingStreak(); // in the start period: not counted
        } else {
            streak = health.failingStreak() + 1;
            if (streak >= check.retries()) {
                status = HealthStatus.UNHEALTHY;
            }
        }
        health = new Health(status, streak, log);
        return status == before ? null : status;
    }
}
