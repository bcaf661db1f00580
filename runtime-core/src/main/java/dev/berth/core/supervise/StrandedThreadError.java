package dev.berth.core.supervise;

/**
 * A thread could not return to the runtime's network namespace after entering a container's: it
 * must run nothing else (whatever it connected to next would be inside the container).
 */
public final class StrandedThreadError extends Error {
    public StrandedThreadError(String message, Throwable cause) {
        super(message, cause);
    }
}
