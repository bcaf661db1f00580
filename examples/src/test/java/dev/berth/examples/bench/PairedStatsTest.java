package dev.berth.examples.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class PairedStatsTest {

    @Test
    void theMedianOfDifferencesSeesAShiftThatTheDriftHides() {
        // a drift of ±20 ms shared by both of a pair, and a constant 0.5 ms on the first
        SplittableRandom rnd = new SplittableRandom(1);
        int n = 400;
        double[] a = new double[n];
        double[] b = new double[n];
        for (int i = 0; i < n; i++) {
            double drift = 20 + 20 * Math.sin(i / 7.0) + rnd.nextDouble(-0.2, 0.2);
            a[i] = drift + 0.5 + rnd.nextDouble(-0.1, 0.1);
            b[i] = drift + rnd.nextDouble(-0.1, 0.1);
        }
        PairedStats s = PairedStats.of(a, b, 3);
        assertThat(s.n()).isEqualTo(n);
        assertThat(s.medianDiff()).isBetween(0.45, 0.55);
        assertThat(s.low95()).isLessThanOrEqualTo(s.medianDiff()).isGreaterThan(0.4);
        assertThat(s.high95()).isGreaterThanOrEqualTo(s.medianDiff()).isLessThan(0.6);
        assertThat(PairedStats.of(a, b, 3)).as("a fixed seed: the same interval").isEqualTo(s);
    }

    @Test
    void medians() {
        assertThat(PairedStats.median(new double[] {3, 1, 2})).isEqualTo(2);
        assertThat(PairedStats.median(new double[] {4, 1, 3, 2})).isEqualTo(2.5);
        PairedStats s = PairedStats.of(new double[] {5, 5, 5}, new double[] {2, 2, 2}, 1);
        assertThat(s.medianDiff()).isEqualTo(3);
        assertThat(s.low95()).isEqualTo(3);
        assertThat(s.high95()).isEqualTo(3);
    }

    @Test
    void unpairedSamplesAreRefused() {
        assertThatThrownBy(() -> PairedStats.of(new double[] {1, 2}, new double[] {1}, 1))
                .hasMessage("paired samples: 2 and 1 values");
        assertThatThrownBy(() -> PairedStats.of(new double[0], new double[0], 1))
                .hasMessage("paired samples: 0 and 0 values");
    }
}
