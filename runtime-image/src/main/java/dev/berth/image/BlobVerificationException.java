package dev.berth.image;

/** A blob or layer whose digest, size or DiffID does not match what its descriptor promised. */
public final class BlobVerificationException extends ImageException {
  private static final long serialVersionUID = 1L;

  public BlobVerificationException(String message) {
    super(message);
  }
}
