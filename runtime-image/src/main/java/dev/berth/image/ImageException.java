package dev.berth.image;

import java.io.IOException;

/**
 * A checked failure of the image store: an invalid image, a blob that fails verification, an unsafe
 * layer, or an exceeded budget. Messages are lowercase and name the offending blob, entry or value.
 */
public class ImageException extends IOException {
  private static final long serialVersionUID = 1L;

  public ImageException(String message) {
    super(message);
  }

  public ImageException(String message, Throwable cause) {
    super(message, cause);
  }
}
