package dev.berth.core;

/**
 * An operation the container's status does not allow, e.g. {@code pause: container web-1 is not
 * running (status exited)}. Unchecked, as {@link IllegalStateException} is for a JDK object used
 * in the wrong state: the caller could have known.
 */
public final class ContainerStateException extends IllegalStateException {
    private final String operation;
    private final String containerId;
    private final ContainerStatus status;

    public ContainerStateException(String operation, String containerId, ContainerStatus status, String expected) {
        super(operation + ": container " + containerId + " is not " + expected + " (status " + status.label() + ")");
        this.operation = operation;
        this.containerId = containerId;
        this.status = status;
    }

    /** What was refused: {@code pause}, {@code resume}, ... */
    public String operation() {
        return operation;
    }

    public String containerId() {
        return containerId;
    }

    /** The container's status when the operation was refused. */
    public ContainerStatus status() {
        return status;
    }
}
