package dev.berth.core.supervise;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.core.HealthCheck;
import dev.berth.core.HealthResult;
import dev.berth.core.HealthStatus;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;

/** Docker's transitions, with a fake clock ({@code t}) and results a fake probe would give. */
class HealthTrackerTest {
    private static final Instant START = Instant.parse("2026-01-01T00:00:00Z");
    private Instant t = START;

    private HealthResult probe(boolean ok) {
        Instant s = t;
        t = t.plusSeconds(1);
        return new HealthResult(ok ? 0 : 1, ok ? "ok" : "down", s, t);
    }

    private HealthResult after(Duration d, boolean ok) {
        t = t.plus(d);
        return probe(ok);
    }

    @Test
    void checksTakenOverGoOnFromTheStatusReportedBeforeWithoutRepeatingIt() {
        HealthCheck check = HealthCheck.builder().tcp(80).retries(2).startPeriod(Duration.ofMinutes(5)).build();
        HealthTracker h = new HealthTracker(check, START);
        h.resumeFrom(HealthStatus.HEALTHY);
        assertThat(h.health().status()).isEqualTo(HealthStatus.HEALTHY);
        assertThat(h.record(probe(true))).isNull(); // healthy already: no second healthy event
        // past the start period's grace (it was healthy): failures count at once
        assertThat(h.record(probe(false))).isNull();
        assertThat(h.record(probe(false))).isEqualTo(HealthStatus.UNHEALTHY);
        HealthTracker u = new HealthTracker(check, START);
        u.resumeFrom(HealthStatus.UNHEALTHY);
        assertThat(u.record(probe(false))).isNull();
        assertThat(u.record(probe(true))).isEqualTo(HealthStatus.HEALTHY);
    }

    @Test
    void startingThenHealthyThenUnhealthyAfterRetriesFailuresInARow() {
        HealthTracker h = new HealthTracker(HealthCheck.builder().tcp(80).retries(3).build(), START);
        assertThat(h.health().status()).isEqualTo(HealthStatus.STARTING);
        assertThat(h.record(probe(true))).isEqualTo(HealthStatus.HEALTHY);
        assertThat(h.record(probe(false))).isNull();
        assertThat(h.record(probe(false))).isNull();
        assertThat(h.health().failingStreak()).isEqualTo(2);
        assertThat(h.record(probe(true))).isNull(); // a success resets the streak
        assertThat(h.health().failingStreak()).isZero();
        assertThat(h.record(probe(false))).isNull();
        assertThat(h.record(probe(false))).isNull();
        assertThat(h.record(probe(false))).isEqualTo(HealthStatus.UNHEALTHY);
        assertThat(h.health().failingStreak()).isEqualTo(3);
        assertThat(h.record(probe(true))).isEqualTo(HealthStatus.HEALTHY);
    }

    @Test
    void failuresInTheStartPeriodDoNotCountUntilTheFirstSuccess() {
        HealthCheck c = HealthCheck.builder().tcp(80).retries(2).startPeriod(Duration.ofSeconds(10)).build();
        HealthTracker h = new HealthTracker(c, START);
        for (int i = 0; i < 5; i++) {
            assertThat(h.record(probe(false))).isNull(); // t = 0..4 s: in the start period
        }
        assertThat(h.health().status()).isEqualTo(HealthStatus.STARTING);
        assertThat(h.health().failingStreak()).isZero();
        assertThat(h.record(after(Duration.ofSeconds(10), false))).isNull(); // past it: counts
        assertThat(h.health().failingStreak()).isEqualTo(1);
        assertThat(h.record(probe(false))).isEqualTo(HealthStatus.UNHEALTHY);
    }

    @Test
    void aSuccessInTheStartPeriodEndsItsGrace() {
        HealthCheck c = HealthCheck.builder().tcp(80).retries(2).startPeriod(Duration.ofSeconds(60)).build();
        HealthTracker h = new HealthTracker(c, START);
        assertThat(h.record(probe(true))).isEqualTo(HealthStatus.HEALTHY);
        assertThat(h.record(probe(false))).isNull();
        assertThat(h.record(probe(false))).isEqualTo(HealthStatus.UNHEALTHY); // still within 60 s, counted
    }

    @Test
    void keepsTheLastFiveResults() {
        HealthTracker h = new HealthTracker(HealthCheck.builder().tcp(80).retries(100).build(), START);
        for (int i = 0; i < 12; i++) {
            h.record(probe(i % 2 == 0));
        }
        assertThat(h.health().log()).hasSize(5);
        assertThat(h.health().log().get(4).end()).isEqualTo(t);
    }
}
