package dev.berth.core.internal;

import dev.berth.BerthException;
import dev.berth.core.ContainerException;
import dev.berth.core.ContainerStartException;
import dev.berth.core.internal.sys.SyscallException;
import java.io.UncheckedIOException;

/**
 * What {@code ContainerRuntime.start} lets out: a {@link ContainerException} (most often a
 * {@link ContainerStartException}), or a caller's own mistake ({@link IllegalArgumentException},
 * {@link IllegalStateException} for a closed runtime, a null). An I/O failure of the state or
 * storage root, an internal syscall error, or another module's {@link BerthException} (cgroups,
 * images, networks) met on the way becomes a {@link ContainerStartException} with the same message,
 * so that a caller handles a failed start in one place and never sees an
 * {@link UncheckedIOException} or an internal type.
 */
public final class StartFailure {
    private StartFailure() {}

    public static RuntimeException of(RuntimeException e) {
        if (e instanceof ContainerException) {
            return e;
        }
        if (e instanceof SyscallException s) {
            return new ContainerStartException(s.getMessage(), s.syscall(), s.operand(), s.errno(), s);
        }
        if (e instanceof UncheckedIOException u) {
            return new ContainerStartException(u.getMessage(), u.getCause());
        }
        if (e instanceof BerthException) {
            return new ContainerStartException(e.getMessage(), e);
        }
        return e;
    }
}
