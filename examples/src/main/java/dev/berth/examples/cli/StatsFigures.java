package dev.berth.examples.cli;

import dev.berth.cgroups.CgroupStats;
import java.time.Duration;
import java.util.Locale;

/**
 * One row of {@code berth stats}, computed as docker computes it: CPU % from the CPU time used
 * between two snapshots over the wall time between them (100% is one CPU busy); memory usage
 * without the inactive page cache (docker's "usage - inactive_file"), against the cgroup's limit or,
 * without one, the host's memory.
 */
record StatsFigures(double cpuPercent, long memUsage, long memLimit, double memPercent, long pids) {

    /** Figures from two snapshots {@code interval} apart ({@code before} may be null: CPU 0.00%). */
    static StatsFigures of(CgroupStats before, CgroupStats now, Duration interval, long hostMemory) {
        double cpu = 0;
        if (before != null && before.cpu().available() && now.cpu().available() && !interval.isZero()) {
            long usec = now.cpu().usageUsec() - before.cpu().usageUsec();
            cpu = Math.max(0, usec) * 100.0 / (interval.toNanos() / 1000.0);
        }
        CgroupStats.Memory m = now.memory();
        long usage = 0;
        if (m.available()) {
            long inactive = m.stat("inactive_file");
            usage = inactive >= 0 && inactive < m.current() ? m.current() - inactive : m.current();
        }
        long limit = m.limit() >= 0 && m.limit() != CgroupStats.UNLIMITED ? Math.min(m.limit(), hostMemory) : hostMemory;
        double memPercent = limit > 0 ? usage * 100.0 / limit : 0;
        return new StatsFigures(cpu, usage, limit, memPercent, Math.max(0, now.pids()));
    }

    /** {@code 12.34%}. */
    static String percent(double p) {
        return String.format(Locale.ROOT, "%.2f%%", p);
    }

    /** docker's units.BytesSize: 4 significant digits, binary units ("1.465MiB", "7.667GiB", "512B"). */
    static String bytes(long n) {
        String[] units = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
        double v = n;
        int i = 0;
        while (v >= 1024 && i < units.length - 1) {
            v /= 1024;
            i++;
        }
        String s = String.format(Locale.ROOT, "%.4g", v);
        if (s.contains(".")) {
            s = s.replaceAll("0+$", "").replaceAll("\\.$", ""); // %g's trailing zeros, as Go's %.4g drops them
        }
        return s + units[i];
    }

    /** {@code 1.465MiB / 7.667GiB}. */
    String memory() {
        return bytes(memUsage) + " / " + bytes(memLimit);
    }
}
