package dev.berth.image;

import dev.berth.BerthException;

/**
 * A failure of the image store: an invalid image, a blob that fails verification, an unsafe layer,
 * an exceeded budget, a registry's refusal. Messages are lowercase and name the offending blob,
 * entry or value. Unchecked, a {@link BerthException}, as every module's failures are; the store's
 * methods still declare {@link java.io.IOException} for the I/O on the caller's files.
 */
public class ImageException extends BerthException {
  private static final long serialVersionUID = 1L;

  public ImageException(String message) {
    super(message);
  }

  public ImageException(String message, Throwable cause) {
    super(message, cause);
  }
}
