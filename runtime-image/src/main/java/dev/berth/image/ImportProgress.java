package dev.berth.image;

/**
 * Progress callbacks of an import or a prepare. Called from worker threads; implementations must be
 * thread-safe. All methods default to no-ops.
 */
public interface ImportProgress {
  ImportProgress NONE = new ImportProgress() {};

  /** A blob copy starts; {@code totalBlobs} is how many blobs the image needs. */
  default void blobStarted(Descriptor blob, int totalBlobs) {}

  /** {@code bytes} more bytes of {@code blob} were copied and hashed. */
  default void blobProgress(Descriptor blob, long bytes) {}

  /** A blob is verified and stored. */
  default void blobDone(Descriptor blob) {}

  /** A layer has been unpacked and its DiffID verified. */
  default void layerUnpacked(Digest diffId, long bytesWritten) {}
}
