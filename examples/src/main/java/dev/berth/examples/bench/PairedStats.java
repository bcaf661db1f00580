package dev.berth.examples.bench;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Two contenders measured in pairs (one of each, back to back): the median of each, the median of the
 * pairwise differences {@code a[i] - b[i]}, and a percentile-bootstrap 95% interval for that median. A pair
 * shares the machine's state of the moment, so the differences carry far less of a shared machine's drift
 * than the two medians do.
 */
record PairedStats(int n, double medianA, double medianB, double medianDiff, double low95, double high95) {

    /** Resamples of the bootstrap; with a fixed seed the interval is the same for the same figures. */
    static final int RESAMPLES = 10_000;

    static PairedStats of(double[] a, double[] b, long seed) {
        if (a.length != b.length || a.length == 0) {
            throw new IllegalArgumentException("paired samples: " + a.length + " and " + b.length + " values");
        }
        int n = a.length;
        double[] d = new double[n];
        for (int i = 0; i < n; i++) {
            d[i] = a[i] - b[i];
        }
        SplittableRandom rnd = new SplittableRandom(seed);
        double[] medians = new double[RESAMPLES];
        double[] sample = new double[n];
        for (int r = 0; r < RESAMPLES; r++) {
            for (int i = 0; i < n; i++) {
                sample[i] = d[rnd.nextInt(n)];
            }
            medians[r] = median(sample);
        }
        Arrays.sort(medians);
        return new PairedStats(n, median(a), median(b), median(d), medians[(int) Math.floor(0.025 * (RESAMPLES - 1))],
                medians[(int) Math.ceil(0.975 * (RESAMPLES - 1))]);
    }

    /** The median (the mean of the middle two for an even count). */
    static double median(double[] values) {
        double[] s = values.clone();
        Arrays.sort(s);
        int m = s.length / 2;
        return s.length % 2 == 1 ? s[m] : (s[m - 1] + s[m]) / 2;
    }
}
