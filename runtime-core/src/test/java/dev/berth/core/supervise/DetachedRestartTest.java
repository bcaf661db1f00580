package dev.berth.core.supervise;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.core.ExitStatus;
import dev.berth.core.RestartPolicy;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

class DetachedRestartTest {
    private static final Duration SHORT = Duration.ofMillis(50);

    @Test
    void alwaysRestartsWithADoublingBackoffAfterShortRuns() {
        int streak = 0;
        int count = 0;
        long[] delays = new long[6];
        for (int i = 0; i < delays.length; i++) {
            DetachedRestart.Decision d = DetachedRestart.decide(RestartPolicy.always(), ExitStatus.exited(1), count,
                    false, streak, SHORT);
            assertThat(d.verdict()).isEqualTo(DetachedRestart.Verdict.RESTART);
            assertThat(d.restartCount()).isEqualTo(count + 1);
            delays[i] = d.delay().toMillis();
            streak = d.streak();
            count = d.restartCount();
        }
        assertThat(delays).containsExactly(100, 200, 400, 800, 1600, 3200);
    }

    @Test
    void theBackoffIsCappedAndStartsOverAfterAStableRun() {
        DetachedRestart.Decision capped = DetachedRestart.decide(RestartPolicy.always(), ExitStatus.exited(1), 40,
                false, 40, SHORT);
        assertThat(capped.delay()).isEqualTo(RestartBackoff.CAP);
        DetachedRestart.Decision stable = DetachedRestart.decide(RestartPolicy.always(), ExitStatus.exited(1), 41,
                false, capped.streak(), RestartBackoff.STABLE);
        assertThat(stable.delay()).isEqualTo(RestartBackoff.INITIAL);
        assertThat(stable.streak()).isEqualTo(1);
    }

    @Test
    void anExplicitStopIsNeverUndoneWhateverThePolicy() {
        for (RestartPolicy p : new RestartPolicy[] {RestartPolicy.always(), RestartPolicy.unlessStopped(),
                RestartPolicy.onFailure()}) {
            DetachedRestart.Decision d = DetachedRestart.decide(p, ExitStatus.killed(15), 0, true, 3, SHORT);
            assertThat(d.verdict()).as(p.toString()).isEqualTo(DetachedRestart.Verdict.STOPPED);
            assertThat(d.streak()).isEqualTo(3); // unchanged: nothing follows
        }
    }

    @Test
    void aRequestedRestartRestartsWhateverThePolicyButAStopStillWins() {
        for (RestartPolicy p : List.of(RestartPolicy.no(), RestartPolicy.onFailure(1), RestartPolicy.always())) {
            DetachedRestart.Decision d = DetachedRestart.decide(p, ExitStatus.exited(0), 5, false, true, 0, SHORT);
            assertThat(d.verdict()).as(p.toString()).isEqualTo(DetachedRestart.Verdict.RESTART);
            assertThat(d.restartCount()).isEqualTo(6);
            assertThat(d.delay()).isEqualTo(Duration.ofMillis(100));
            assertThat(DetachedRestart.decide(p, ExitStatus.killed(15), 5, true, true, 0, SHORT).verdict())
                    .isEqualTo(DetachedRestart.Verdict.STOPPED);
        }
    }

    @Test
    void onFailureStopsAfterItsRetriesAndAfterASuccess() {
        RestartPolicy p = RestartPolicy.onFailure(2);
        assertThat(DetachedRestart.decide(p, ExitStatus.exited(1), 0, false, 0, SHORT).verdict())
                .isEqualTo(DetachedRestart.Verdict.RESTART);
        assertThat(DetachedRestart.decide(p, ExitStatus.exited(1), 1, false, 1, SHORT).verdict())
                .isEqualTo(DetachedRestart.Verdict.RESTART);
        assertThat(DetachedRestart.decide(p, ExitStatus.exited(1), 2, false, 2, SHORT).verdict())
                .isEqualTo(DetachedRestart.Verdict.POLICY);
        assertThat(DetachedRestart.decide(p, ExitStatus.exited(0), 0, false, 0, SHORT).verdict())
                .isEqualTo(DetachedRestart.Verdict.POLICY);
        assertThat(DetachedRestart.decide(RestartPolicy.no(), ExitStatus.exited(1), 0, false, 0, SHORT).verdict())
                .isEqualTo(DetachedRestart.Verdict.POLICY);
    }

    @Test
    void aNegativeRunTimeFromASkewedClockCountsAsShort() {
        DetachedRestart.Decision d = DetachedRestart.decide(RestartPolicy.always(), ExitStatus.exited(1), 0, false, 0,
                Duration.ofSeconds(-5));
        assertThat(d.delay()).isEqualTo(RestartBackoff.INITIAL);
    }

    @Test
    void theDecisionIsDescribedInOneLine() {
        DetachedRestart.Decision d = DetachedRestart.decide(RestartPolicy.always(), ExitStatus.exited(1), 0, false, 0,
                SHORT);
        assertThat(d.describe("svc", ExitStatus.exited(1))).doesNotContain("\n").contains("svc", "restart 1", "100 ms");
    }
}
