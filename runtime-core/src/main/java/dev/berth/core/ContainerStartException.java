package dev.berth.core;

/**
 * A container failed to start. When a plan operation failed, the message names it as
 * {@code syscall(operand): error}, for example
 * {@code pivot_root(/var/lib/berth/containers/c1/rootfs): Invalid argument}, and
 * {@link #syscall()}, {@link #operand()} and {@link #errno()} carry the parts.
 */
public class ContainerStartException extends ContainerException {
    private final String syscall;
    private final String operand;
    private final int errno;

    public ContainerStartException(String message) {
        this(message, "", "", 0, null);
    }

    public ContainerStartException(String message, Throwable cause) {
        this(message, "", "", 0, cause);
    }

    public ContainerStartException(String message, String syscall, String operand, int errno, Throwable cause) {
        super(message, cause);
        this.syscall = syscall;
        this.operand = operand;
        this.errno = errno;
    }

    /** The failed step's syscall ({@code pivot_root}, {@code exec}, ...), or empty. */
    public String syscall() {
        return syscall;
    }

    /** The path or value the step worked on, or empty. */
    public String operand() {
        return operand;
    }

    /** The errno of the failed step, or 0 when the failure was not a syscall's. */
    public int errno() {
        return errno;
    }
}
