package dev.berth;

/**
 * The base of every failure Berth reports: a container that could not start or be reached
 * ({@code dev.berth.core.ContainerException}), an image that is invalid or could not be stored
 * ({@code dev.berth.image.ImageException}), a cgroup the kernel refused
 * ({@code dev.berth.cgroups.CgroupException}), a network or CNI plugin that failed
 * ({@code dev.berth.network.NetworkException}).
 *
 * <p>Unchecked, like the JDK's {@link java.io.UncheckedIOException}: container handles are used
 * from lambdas, listeners and streams, and most failures can only be reported, not recovered from
 * at the call site. Catch {@code BerthException} to handle any of them in one place; the message
 * names the field, file or system call and its operand ({@code pivot_root(/x/rootfs): Invalid
 * argument}). A caller's own mistake is no {@code BerthException}: an invalid argument throws
 * {@link IllegalArgumentException}, an operation the state does not allow
 * {@link IllegalStateException} (e.g. {@code ContainerStateException}), as the JDK does.
 *
 * <p>Lives in runtime-linux because it is the one module every other module depends on.
 */
public class BerthException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public BerthException(String message) {
        super(message);
    }

    public BerthException(String message, Throwable cause) {
        super(message, cause);
    }
}
