package dev.berth.image;

/**
 * Budgets that stop decompression bombs and absurd images. Bytes are counted as they are written
 * (and, for the decompressed stream as a whole, as they are read after decompression), never as
 * compressed input.
 *
 * @param maxTotalBytes bytes written into one layer directory (file contents), default 20 GiB
 * @param maxEntryBytes size of one file entry, default 8 GiB
 * @param maxEntries tar entries in one layer, default 1,000,000
 * @param maxLayers layers in one image, default 128 (the overlay lowerdir depth moby allows)
 * @param maxJsonBytes size of an index, manifest or config blob, default 4 MiB
 */
public record UnpackLimits(
    long maxTotalBytes, long maxEntryBytes, long maxEntries, int maxLayers, long maxJsonBytes) {
  public static final long GIB = 1L << 30;

  public static final UnpackLimits DEFAULTS =
      new UnpackLimits(20 * GIB, 8 * GIB, 1_000_000, 128, 4L << 20);

  public UnpackLimits {
    if (maxTotalBytes <= 0 || maxEntryBytes <= 0 || maxEntries <= 0 || maxLayers <= 0 || maxJsonBytes <= 0) {
      throw new IllegalArgumentException("unpack limits must be positive");
    }
  }

  public UnpackLimits withMaxTotalBytes(long v) {
    return new UnpackLimits(v, maxEntryBytes, maxEntries, maxLayers, maxJsonBytes);
  }

  public UnpackLimits withMaxEntryBytes(long v) {
    return new UnpackLimits(maxTotalBytes, v, maxEntries, maxLayers, maxJsonBytes);
  }

  public UnpackLimits withMaxEntries(long v) {
    return new UnpackLimits(maxTotalBytes, maxEntryBytes, v, maxLayers, maxJsonBytes);
  }

  public UnpackLimits withMaxLayers(int v) {
    return new UnpackLimits(maxTotalBytes, maxEntryBytes, maxEntries, v, maxJsonBytes);
  }
}
