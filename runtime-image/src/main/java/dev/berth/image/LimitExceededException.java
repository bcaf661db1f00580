package dev.berth.image;

/** An unpack or import budget (bytes written, entry size, entry count, layer count) was exceeded. */
public final class LimitExceededException extends ImageException {
  private static final long serialVersionUID = 1L;

  public LimitExceededException(String message) {
    super(message);
  }
}
