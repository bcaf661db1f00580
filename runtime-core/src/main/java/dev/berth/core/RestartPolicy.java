package dev.berth.core;

import java.util.Locale;
import java.util.Objects;

/**
 * Whether a container that ended is started again, spelled as docker and podman spell it:
 * {@code no}, {@code on-failure[:max-retries]}, {@code always}, {@code unless-stopped}. An explicit
 * {@link Container#stop stop()}, {@link Container#kill kill()} or {@link Container#close close()} is
 * never undone by a restart, whatever the policy.
 *
 * <p>{@code always} and {@code unless-stopped} only differ across runtime restarts (docker's daemon
 * restart): a container that was stopped by hand stays stopped under {@code unless-stopped}. Berth
 * does not bring containers back when a new runtime opens the state root, so within one runtime both
 * behave alike.
 */
public final class RestartPolicy {

    /** What ends of a container are followed by a new start. */
    public enum Kind {
        /** Never restarted (the default). */
        NO("no"),
        /** Restarted when its target ends with a non-zero code or by a signal, at most {@code maxRetries} times (0: no limit). */
        ON_FAILURE("on-failure"),
        /** Restarted whenever it ends by itself. */
        ALWAYS("always"),
        /** As {@link #ALWAYS}; see the class comment. */
        UNLESS_STOPPED("unless-stopped");

        private final String label;

        Kind(String label) {
            this.label = label;
        }

        public String label() {
            return label;
        }
    }

    private static final RestartPolicy NO = new RestartPolicy(Kind.NO, 0);
    private static final RestartPolicy ALWAYS = new RestartPolicy(Kind.ALWAYS, 0);
    private static final RestartPolicy UNLESS_STOPPED = new RestartPolicy(Kind.UNLESS_STOPPED, 0);

    private final Kind kind;
    private final int maxRetries;

    private RestartPolicy(Kind kind, int maxRetries) {
        this.kind = kind;
        this.maxRetries = maxRetries;
    }

    public static RestartPolicy no() {
        return NO;
    }

    public static RestartPolicy always() {
        return ALWAYS;
    }

    public static RestartPolicy unlessStopped() {
        return UNLESS_STOPPED;
    }

    /** {@code on-failure} without a limit. */
    public static RestartPolicy onFailure() {
        return new RestartPolicy(Kind.ON_FAILURE, 0);
    }

    /**
     * {@code on-failure:maxRetries}: at most that many restarts.
     *
     * @throws IllegalArgumentException when {@code maxRetries} is negative
     */
    public static RestartPolicy onFailure(int maxRetries) {
        if (maxRetries < 0) {
            throw new IllegalArgumentException("restart: on-failure max-retries must be >= 0, got " + maxRetries);
        }
        return new RestartPolicy(Kind.ON_FAILURE, maxRetries);
    }

    /**
     * The policy docker's {@code --restart} value names.
     *
     * @throws IllegalArgumentException naming the field {@code restart} and the value when it is none
     */
    public static RestartPolicy parse(String value) {
        if (value == null) {
            throw new IllegalArgumentException("restart: missing policy (no, on-failure[:max-retries], always,"
                    + " unless-stopped)");
        }
        String v = value.strip().toLowerCase(Locale.ROOT);
        int colon = v.indexOf(':');
        String name = colon < 0 ? v : v.substring(0, colon);
        if (colon >= 0 && !name.equals("on-failure")) {
            throw new IllegalArgumentException("restart: \"" + value + "\": only on-failure takes a max-retries count");
        }
        switch (name) {
            case "no":
                return NO;
            case "always":
                return ALWAYS;
            case "unless-stopped":
                return UNLESS_STOPPED;
            case "on-failure":
                if (colon < 0) {
                    return onFailure();
                }
                String n = v.substring(colon + 1);
                if (!n.matches("[0-9]{1,9}")) {
                    throw new IllegalArgumentException("restart: \"" + value + "\": max-retries must be a"
                            + " non-negative number");
                }
                return onFailure(Integer.parseInt(n));
            default:
                throw new IllegalArgumentException("restart: unknown policy \"" + value + "\" (no,"
                        + " on-failure[:max-retries], always, unless-stopped)");
        }
    }

    public Kind kind() {
        return kind;
    }

    /** For {@link Kind#ON_FAILURE}: the most restarts, 0 for no limit; 0 for the others. */
    public int maxRetries() {
        return maxRetries;
    }

    /**
     * Whether a container that ended by itself with {@code exit}, after {@code restartsSoFar}
     * restarts, is started again (an explicit stop is decided before: it never is).
     */
    public boolean restartsAfter(ExitStatus exit, int restartsSoFar) {
        return switch (kind) {
            case NO -> false;
            case ALWAYS, UNLESS_STOPPED -> true;
            case ON_FAILURE -> (!exit.exited() || exit.exitCode() != 0)
                    && (maxRetries == 0 || restartsSoFar < maxRetries);
        };
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof RestartPolicy p && p.kind == kind && p.maxRetries == maxRetries;
    }

    @Override
    public int hashCode() {
        return Objects.hash(kind, maxRetries);
    }

    /** Docker's spelling, which {@link #parse} reads back. */
    @Override
    public String toString() {
        return kind == Kind.ON_FAILURE && maxRetries > 0 ? kind.label + ":" + maxRetries : kind.label;
    }
}
