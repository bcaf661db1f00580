package dev.berth.core.supervise;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class RestartBackoffTest {
    private static final Duration SHORT = Duration.ofMillis(50);

    @Test
    void doublesFrom100MillisAfterShortRuns() {
        RestartBackoff b = RestartBackoff.initial();
        assertThat(b.delay()).isZero();
        List<Long> delays = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            b = b.after(SHORT);
            delays.add(b.delay().toMillis());
        }
        assertThat(delays).containsExactly(100L, 200L, 400L, 800L, 1600L, 3200L);
    }

    @Test
    void isCappedAtOneMinuteAndNeverOverflows() {
        RestartBackoff b = RestartBackoff.initial();
        for (int i = 0; i < 10; i++) {
            b = b.after(SHORT);
        }
        assertThat(b.delay()).isEqualTo(Duration.ofMillis(51_200)); // the tenth: 100 ms << 9
        b = b.after(SHORT);
        assertThat(b.delay()).isEqualTo(Duration.ofMinutes(1)); // 102.4 s: capped
        for (int i = 0; i < 1000; i++) {
            b = b.after(SHORT);
        }
        assertThat(b.delay()).isEqualTo(Duration.ofMinutes(1));
        assertThat(new RestartBackoff(Integer.MAX_VALUE).delay()).isEqualTo(Duration.ofMinutes(1));
    }

    @Test
    void resetsAfterAStableRun() {
        RestartBackoff b = RestartBackoff.initial().after(SHORT).after(SHORT).after(SHORT);
        assertThat(b.delay()).isEqualTo(Duration.ofMillis(400));
        b = b.after(Duration.ofSeconds(10));
        assertThat(b.delay()).isEqualTo(Duration.ofMillis(100));
        assertThat(b.after(Duration.ofSeconds(9)).delay()).isEqualTo(Duration.ofMillis(200));
    }
}
