package dev.berth.examples.cli;

import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Times as docker prints and reads them: "5 minutes", "About an hour", "3 days ago"; --since values. */
final class HumanTime {
    private HumanTime() {}

    private static final Pattern GO_DURATION = Pattern.compile("((\\d+(\\.\\d+)?)(ns|us|µs|ms|s|m|h))+");
    private static final Pattern GO_PART = Pattern.compile("(\\d+(?:\\.\\d+)?)(ns|us|µs|ms|s|m|h)");

    /** docker's units.HumanDuration: "Less than a second", "1 second", "About a minute", "5 minutes", "2 days", ... */
    static String duration(Duration d) {
        long seconds = d.getSeconds();
        if (seconds < 1) {
            return "Less than a second";
        }
        if (seconds == 1) {
            return "1 second";
        }
        if (seconds < 60) {
            return seconds + " seconds";
        }
        long minutes = d.toMinutes();
        if (minutes == 1) {
            return "About a minute";
        }
        if (minutes < 60) {
            return minutes + " minutes";
        }
        long hours = Math.round(seconds / 3600.0);
        if (hours == 1) {
            return "About an hour";
        }
        if (hours < 48) {
            return hours + " hours";
        }
        if (hours < 24 * 7 * 2) {
            return hours / 24 + " days";
        }
        if (hours < 24 * 30 * 2) {
            return hours / 24 / 7 + " weeks";
        }
        if (hours < 24 * 365 * 2) {
            return hours / 24 / 30 + " months";
        }
        return d.toHours() / 24 / 365 + " years";
    }

    private static final Pattern GO_SIGNED = Pattern.compile("[-+]?((\\d+(\\.\\d*)?|\\.\\d+)(ns|us|µs|ms|s|m|h))+");
    private static final Pattern GO_SIGNED_PART = Pattern.compile("(\\d+(?:\\.\\d*)?|\\.\\d+)(ns|us|µs|ms|s|m|h)");

    /**
     * A duration as docker reads one (Go's {@code time.ParseDuration}): {@code 30s}, {@code 1m30s},
     * {@code 500ms}, {@code 1.5h}, {@code 0}; a number needs its unit, as in docker.
     *
     * @throws IllegalArgumentException saying which forms are accepted, or that it is too long
     */
    static Duration goDuration(String value) {
        String v = value == null ? "" : value.strip();
        if (v.equals("0") || v.equals("+0") || v.equals("-0")) {
            return Duration.ZERO;
        }
        if (!GO_SIGNED.matcher(v).matches()) {
            throw new IllegalArgumentException("\"" + value + "\" is not a duration (e.g. 30s, 1m30s, 500ms)");
        }
        java.math.BigDecimal nanos = java.math.BigDecimal.ZERO;
        Matcher m = GO_SIGNED_PART.matcher(v);
        while (m.find()) {
            long unit = switch (m.group(2)) {
                case "ns" -> 1L;
                case "us", "µs" -> 1_000L;
                case "ms" -> 1_000_000L;
                case "s" -> 1_000_000_000L;
                case "m" -> 60_000_000_000L;
                default -> 3_600_000_000_000L;
            };
            nanos = nanos.add(new java.math.BigDecimal(m.group(1)).multiply(java.math.BigDecimal.valueOf(unit)));
        }
        if (nanos.compareTo(java.math.BigDecimal.valueOf(Long.MAX_VALUE)) > 0) {
            throw new IllegalArgumentException("\"" + value + "\" is too long a duration (at most 2562047h)");
        }
        Duration d = Duration.ofNanos(nanos.longValue());
        return v.startsWith("-") ? d.negated() : d;
    }

    /** "3 minutes ago" (a time in the future, a clock step, reads as "Less than a second ago"). */
    static String ago(Instant then, Instant now) {
        Duration d = Duration.between(then, now);
        return duration(d.isNegative() ? Duration.ZERO : d) + " ago";
    }

    /**
     * A {@code --since}/{@code --until} value, as docker reads it: an RFC 3339 time
     * ({@code 2026-12-02T01:00:00Z}, an offset, fractions), a Go duration before now ({@code 10m},
     * {@code 1h30m}, {@code 90s}), or Unix seconds ({@code 1764637200}, {@code 1764637200.5}).
     *
     * @throws IllegalArgumentException naming the value and the accepted forms
     */
    static Instant since(String value, Instant now) {
        String v = value.trim();
        if (GO_DURATION.matcher(v).matches()) {
            Matcher m = GO_PART.matcher(v);
            double nanos = 0;
            while (m.find()) {
                double n = Double.parseDouble(m.group(1));
                nanos += n * switch (m.group(2)) {
                    case "ns" -> 1;
                    case "us", "µs" -> 1e3;
                    case "ms" -> 1e6;
                    case "s" -> 1e9;
                    case "m" -> 60e9;
                    default -> 3600e9;
                };
            }
            if (nanos > 100L * 365 * 24 * 3600 * 1e9) {
                throw new IllegalArgumentException("--since: " + value + " is more than a century");
            }
            return now.minusNanos((long) nanos);
        }
        if (v.matches("\\d{1,12}(\\.\\d{1,9})?")) {
            String[] p = v.split("\\.");
            long nanos = p.length == 2 ? Long.parseLong((p[1] + "000000000").substring(0, 9)) : 0;
            return Instant.ofEpochSecond(Long.parseLong(p[0]), nanos);
        }
        try {
            return OffsetDateTime.parse(v).toInstant();
        } catch (DateTimeParseException e) {
            // below
        }
        try {
            return Instant.parse(v);
        } catch (DateTimeParseException e) {
            throw new IllegalArgumentException("--since: \"" + value + "\" is not a time: use RFC 3339"
                    + " (2006-01-02T15:04:05Z), a duration before now (10m, 1h30m) or Unix seconds");
        }
    }
}
