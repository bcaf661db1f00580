package dev.berth.image.registry;

import dev.berth.image.ImageException;
import java.util.Optional;

/**
 * A registry refused or failed a request. The message names the reference, the registry, the HTTP
 * status and the registry's own error code ({@code MANIFEST_UNKNOWN}, {@code UNAUTHORIZED}, {@code
 * DENIED}, {@code TOOMANYREQUESTS}, …); it never holds credentials or tokens.
 */
public final class RegistryException extends ImageException {
  private static final long serialVersionUID = 1L;
  private final int status;
  private final String code;

  public RegistryException(String message, int status, Optional<String> code) {
    super(message);
    this.status = status;
    this.code = code.orElse(null);
  }

  public RegistryException(String message, int status, Optional<String> code, Throwable cause) {
    super(message, cause);
    this.status = status;
    this.code = code.orElse(null);
  }

  /** The HTTP status, or 0 when the registry could not be reached. */
  public int status() {
    return status;
  }

  /** The registry's error code (the first of its {@code errors}), if it sent one. */
  public Optional<String> code() {
    return Optional.ofNullable(code);
  }
}
