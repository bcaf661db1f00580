package dev.berth.core;

/** A container's health as its health check says: docker's {@code starting}, {@code healthy}, {@code unhealthy}. */
public enum HealthStatus {
    STARTING,
    HEALTHY,
    UNHEALTHY;

    /** The lower-case name docker uses, also in the state file and events. */
    public String label() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }

    @Override
    public String toString() {
        return label();
    }
}
