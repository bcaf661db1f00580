package dev.berth.core;

import java.util.Locale;

/** What the runtime does when a container becomes unhealthy (podman's {@code --health-on-failure}). */
public enum UnhealthyAction {
    /** Only report it (status and event): docker's behaviour. */
    NONE,
    /** Stop it (stop signal, then SIGKILL after the grace) and start it again, keeping its id and writable layer. */
    RESTART,
    /** Stop it for good (stop signal, then SIGKILL after the grace); its restart policy does not bring it back. */
    STOP,
    /** Kill it for good (SIGKILL); its restart policy does not bring it back. */
    KILL;

    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }

    /**
     * podman's spelling: {@code none}, {@code restart}, {@code stop}, {@code kill}.
     *
     * @throws IllegalArgumentException naming the field {@code onUnhealthy} when it is none of them
     */
    public static UnhealthyAction parse(String value) {
        for (UnhealthyAction a : values()) {
            if (a.label().equals(value)) {
                return a;
            }
        }
        throw new IllegalArgumentException("onUnhealthy: unknown action \"" + value + "\" (none, restart, stop, kill)");
    }

    @Override
    public String toString() {
        return label();
    }
}
