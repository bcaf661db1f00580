package dev.berth.network;

import dev.berth.BerthException;

/**
 * A network operation failed: a CNI plugin's error (with its code and the plugin named), a
 * network that does not exist or is in use, or the store's I/O. Unchecked, a {@link BerthException},
 * as every module's failures are.
 */
public class NetworkException extends BerthException {
    private static final long serialVersionUID = 1L;
    private final int cniCode;

    public NetworkException(String message) {
        this(message, 0, null);
    }

    public NetworkException(String message, Throwable cause) {
        this(message, 0, cause);
    }

    public NetworkException(String message, int cniCode, Throwable cause) {
        super(message, cause);
        this.cniCode = cniCode;
    }

    /** The CNI error code a plugin reported (CNI spec: 1-99 well-known, 100+ plugin-specific), or 0. */
    public int cniCode() {
        return cniCode;
    }
}
