package dev.berth.core.supervise;

import dev.berth.core.Health;
import dev.berth.core.HealthCheck;
import dev.berth.core.HealthResult;
import dev.berth.core.HealthStatus;
import java.time.Clock;
import java.time.Duration;
import java.util.function.BiConsumer;

/**
 * Checks one incarnation of a container every {@link HealthCheck#interval()} (the first check one
 * interval after its start, as docker), on the health scheduler thread, and feeds the results to a
 * {@link HealthTracker}. A check that never reports (its thread was replaced) counts as failed
 * after its timeout and a second. {@link #stop()} ends it: no check starts after it, and a result
 * that arrives after it is dropped.
 */
public final class HealthMonitor {
    private static final Duration GRACE = Duration.ofSeconds(1);

    private final HealthCheck check;
    private final HealthProbe probe;
    private final HealthProbe.Target target;
    private final HealthScheduler scheduler;
    private final Clock clock;
    private final HealthTracker tracker;
    /** Called on the scheduler thread with each result and the status it changed to (or null). */
    private final BiConsumer<Health, HealthStatus> onResult;
    private volatile boolean stopped;
    private volatile Health health;
    private HealthScheduler.Cancellable next;

    public HealthMonitor(HealthCheck check, HealthProbe probe, HealthProbe.Target target, HealthScheduler scheduler,
            Clock clock, BiConsumer<Health, HealthStatus> onResult) {
        this.check = check;
        this.probe = probe;
        this.target = target;
        this.scheduler = scheduler;
        this.clock = clock;
        this.tracker = new HealthTracker(check, clock.instant());
        this.health = tracker.health();
        this.onResult = onResult;
    }

    /** Before {@link #start()}: its checks go on from {@code status} (see {@link HealthTracker#resumeFrom}). */
    public void resumeFrom(HealthStatus status) {
        tracker.resumeFrom(status);
        health = tracker.health();
    }

    public void start() {
        scheduler.execute(() -> scheduleNext(check.interval()));
    }

    public Health health() {
        return health;
    }

    /** No further checks (from any thread). */
    public void stop() {
        stopped = true;
        scheduler.execute(() -> {
            if (next != null) {
                next.cancel();
            }
        });
    }

    private void scheduleNext(Duration delay) {
        if (!stopped) {
            next = scheduler.schedule(delay, this::runCheck);
        }
    }

    private void runCheck() {
        if (stopped) {
            return;
        }
        boolean[] reported = new boolean[1];
        java.time.Instant start = clock.instant();
        HealthScheduler.Cancellable watchdog = scheduler.schedule(check.timeout().plus(GRACE), () -> {
            if (!reported[0]) {
                reported[0] = true;
                recorded(new HealthResult(1, "health check did not report within its timeout", start, clock.instant()));
            }
        });
        probe.run(check, target, r -> {
            if (!reported[0]) {
                reported[0] = true;
                watchdog.cancel();
                recorded(r);
            }
        });
    }

    private void recorded(HealthResult r) {
        if (stopped) {
            return;
        }
        HealthStatus changed = tracker.record(r);
        health = tracker.health();
        try {
            onResult.accept(health, changed);
        } finally {
            scheduleNext(check.interval());
        }
    }
}
