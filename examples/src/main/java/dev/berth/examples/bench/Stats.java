package dev.berth.examples.bench;

import java.util.Arrays;

/** Percentiles of a sample of durations in milliseconds. */
record Stats(int n, double p50, double p90, double p99, double min, double max) {

    static Stats of(double[] millis) {
        double[] s = millis.clone();
        Arrays.sort(s);
        return new Stats(s.length, pct(s, 50), pct(s, 90), pct(s, 99), s[0], s[s.length - 1]);
    }

    /** Nearest-rank percentile. */
    static double pct(double[] sorted, double p) {
        int rank = (int) Math.ceil(p / 100.0 * sorted.length);
        return sorted[Math.max(0, Math.min(sorted.length - 1, rank - 1))];
    }
}
