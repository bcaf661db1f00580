package dev.berth.core;

import java.time.Instant;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * Something that happened to a container, as docker's and podman's events name it. Delivered to
 * listeners ({@link ContainerRuntime#events}, {@link Container#events}) exactly once each, in the
 * order they happened per container, and recorded as a JFR event {@code dev.berth.ContainerEvent}.
 *
 * @param id         the container's id
 * @param type       what happened
 * @param time       when
 * @param exitStatus how it ended, for {@link Type#EXITED}; empty otherwise
 * @param attributes details by name: {@code health_status} for {@link Type#HEALTH_STATUS},
 *                   {@code restartCount} and {@code delayMillis} for {@link Type#RESTARTING}, ...
 */
public record ContainerEvent(String id, Type type, Instant time, Optional<ExitStatus> exitStatus,
        Map<String, String> attributes) {

    /** The kinds of events. */
    public enum Type {
        CREATED, STARTED, EXITED, OOM, HEALTH_STATUS, RESTARTING, PAUSED, RESUMED, DESTROYED;

        /** docker's spelling: {@code created}, ..., {@code health_status}. */
        public String label() {
            return name().toLowerCase(Locale.ROOT);
        }

        @Override
        public String toString() {
            return label();
        }
    }

    public ContainerEvent {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(time, "time");
        Objects.requireNonNull(exitStatus, "exitStatus");
        if (exitStatus.isPresent() != (type == Type.EXITED)) {
            throw new IllegalArgumentException("exitStatus: present exactly for an exited event (" + type + ")");
        }
        attributes = Collections.unmodifiableMap(new LinkedHashMap<>(attributes));
    }

    /** An event without an exit status. */
    public static ContainerEvent of(String id, Type type, Instant time, Map<String, String> attributes) {
        return new ContainerEvent(id, type, time, Optional.empty(), attributes);
    }

    /** An {@link Type#EXITED} event. */
    public static ContainerEvent exited(String id, Instant time, ExitStatus status, Map<String, String> attributes) {
        return new ContainerEvent(id, Type.EXITED, time, Optional.of(status), attributes);
    }

    /** A one-line summary: the exit status or the attributes. */
    public String detail() {
        if (exitStatus.isPresent()) {
            return exitStatus.get().toString();
        }
        StringBuilder b = new StringBuilder();
        attributes.forEach((k, v) -> b.append(b.length() == 0 ? "" : " ").append(k).append('=').append(v));
        return b.toString();
    }
}
