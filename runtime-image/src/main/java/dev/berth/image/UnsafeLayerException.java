package dev.berth.image;

/** A layer tar entry that is refused: it would escape the layer directory or is otherwise invalid. */
public final class UnsafeLayerException extends ImageException {
  private static final long serialVersionUID = 1L;

  public UnsafeLayerException(String message) {
    super(message);
  }
}
