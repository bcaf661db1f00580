package dev.berth.examples.cli;

import dev.berth.cgroups.DeviceThrottle;
import java.nio.file.Path;
import java.util.Locale;

/** Docker's and podman's spellings of sizes and devices, as small pure functions. */
final class Units {
    private Units() {}

    /**
     * Parses {@code 512}, {@code 64k}, {@code 32m}, {@code 1g}, {@code 1.5g} (1024-based, case-insensitive,
     * an optional trailing {@code b}) into bytes.
     */
    static long size(String s) {
        String v = s.trim().toLowerCase(Locale.ROOT);
        if (v.endsWith("b") && v.length() > 1 && !Character.isDigit(v.charAt(v.length() - 2))) {
            v = v.substring(0, v.length() - 1);
        }
        long mult = 1;
        if (!v.isEmpty()) {
            switch (v.charAt(v.length() - 1)) {
                case 'k' -> mult = 1L << 10;
                case 'm' -> mult = 1L << 20;
                case 'g' -> mult = 1L << 30;
                case 't' -> mult = 1L << 40;
                case 'b' -> mult = 1;
                default -> mult = 0;
            }
            if (mult != 0) {
                v = v.substring(0, v.length() - 1);
            } else {
                mult = 1;
            }
        }
        try {
            double n = Double.parseDouble(v);
            if (n < 0 || Double.isNaN(n) || n * mult > Long.MAX_VALUE) {
                throw new NumberFormatException();
            }
            return (long) (n * mult);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("invalid size \"" + s + "\" (use a number with an optional b, k, m or g)");
        }
    }

    /** A device and rate, {@code /dev/sda:10mb} or {@code 8:0:10mb}: the device's major:minor and bytes per second. */
    record DeviceRate(int major, int minor, long bytesPerSecond) {}

    static DeviceRate deviceRate(String s) {
        int colon = s.lastIndexOf(':');
        if (colon <= 0) {
            throw new IllegalArgumentException("expected DEVICE:RATE, got \"" + s + "\"");
        }
        String dev = s.substring(0, colon);
        long rate = size(s.substring(colon + 1));
        if (rate <= 0) {
            throw new IllegalArgumentException("rate must be > 0 in \"" + s + "\"");
        }
        if (dev.matches("\\d+:\\d+")) {
            String[] mm = dev.split(":");
            return new DeviceRate(Integer.parseInt(mm[0]), Integer.parseInt(mm[1]), rate);
        }
        int[] mm = DeviceThrottle.deviceNumbers(Path.of(dev)); // "io.max: /dev/x is not a block device" ...
        return new DeviceRate(mm[0], mm[1], rate);
    }
}
