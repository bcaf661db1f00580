package dev.berth.core;

import dev.berth.BerthException;

/**
 * A container operation failed: it could not start ({@link ContainerStartException}), the id is
 * taken or unknown, or the container is not running. Unchecked, a {@link BerthException}, as every
 * module's failures are.
 */
public class ContainerException extends BerthException {
    private static final long serialVersionUID = 1L;

    public ContainerException(String message) {
        super(message);
    }

    public ContainerException(String message, Throwable cause) {
        super(message, cause);
    }
}
