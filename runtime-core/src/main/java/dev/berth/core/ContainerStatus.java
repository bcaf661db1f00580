package dev.berth.core;

import java.util.Locale;

/**
 * Where a container is in its life: {@code created → running ⇄ paused → exited}. {@link #EXITED} is
 * terminal. The name in the state file and in messages is the lower-case one ({@link #label()}).
 */
public enum ContainerStatus {
    /** Its init exists, its target has not been exec'd yet. */
    CREATED,
    /** Its target was exec'd and has not ended. */
    RUNNING,
    /** Frozen by the cgroup freezer until resumed. */
    PAUSED,
    /** Its target ended (the exit status says how); its resources stay until it is closed. */
    EXITED;

    /** {@code created}, {@code running}, {@code paused} or {@code exited}. */
    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** Whether the status machine allows going from this status to {@code next}. */
    public boolean canBecome(ContainerStatus next) {
        return switch (this) {
            case CREATED -> next == RUNNING || next == EXITED;
            case RUNNING -> next == PAUSED || next == EXITED;
            case PAUSED -> next == RUNNING || next == EXITED;
            case EXITED -> false;
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
