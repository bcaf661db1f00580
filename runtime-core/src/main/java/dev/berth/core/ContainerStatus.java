package dev.berth.core;

import java.util.Locale;

/**
 * Where a container is in its life: {@code created → running ⇄ paused → exited}, and for a detached
 * container whose restart policy restarts it, {@code exited → restarting} while it waits for its
 * backoff, then a new run ({@code created}), or back to {@code exited} when a stop called the restart
 * off (docker shows such a container as {@code restarting} too). The name in the state file and in messages is the lower-case one ({@link #label()}).
 */
public enum ContainerStatus {
    /** Its init exists, its target has not been exec'd yet. */
    CREATED,
    /** Its target was exec'd and has not ended. */
    RUNNING,
    /** Frozen by the cgroup freezer until resumed. */
    PAUSED,
    /** Its target ended (the exit status says how); its resources stay until it is closed. */
    EXITED,
    /**
     * Ended, and waiting for its restart (a detached container restarted by its exit command, after
     * its backoff); the exit status is the ended run's.
     */
    RESTARTING;

    /** {@code created}, {@code running}, {@code paused}, {@code exited} or {@code restarting}. */
    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** Whether the status machine allows going from this status to {@code next}. */
    public boolean canBecome(ContainerStatus next) {
        return switch (this) {
            case CREATED -> next == RUNNING || next == EXITED;
            case RUNNING -> next == PAUSED || next == EXITED;
            case PAUSED -> next == RUNNING || next == EXITED;
            case EXITED -> next == RESTARTING;
            case RESTARTING -> next == CREATED || next == EXITED;
        };
    }

    /** The status named {@code label} (as {@link #label()} gives it). */
    public static ContainerStatus ofLabel(String label) {
        for (ContainerStatus s : values()) {
            if (s.label().equals(label)) {
                return s;
            }
        }
        throw new IllegalArgumentException("status: unknown container status \"" + label + "\"");
    }

    @Override
    public String toString() {
        return label();
    }
}
