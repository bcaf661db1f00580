package dev.berth.image;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * An image whose layers are all unpacked and pinned: while this object is open, {@link
 * ImageStore#remove} keeps its layers. For a pin that survives the JVM (a created container), call
 * {@link ImageStore#pin(String, PreparedImage)}.
 */
public final class PreparedImage implements AutoCloseable {
  private final ImageStore store;
  private final Image image;
  private final List<Path> lowerDirs;
  private final List<String> shortLowerDirs;
  private final Path linkDir;
  private final AtomicBoolean closed = new AtomicBoolean();

  PreparedImage(ImageStore store, Image image, List<Path> lowerDirs, List<String> shortLowerDirs, Path linkDir) {
    this.store = store;
    this.image = image;
    this.lowerDirs = List.copyOf(lowerDirs);
    this.shortLowerDirs = List.copyOf(shortLowerDirs);
    this.linkDir = linkDir;
  }

  public Image image() {
    return image;
  }

  public ImageConfig config() {
    return image.config();
  }

  /** Absolute layer directories, top-most first, as overlayfs {@code lowerdir=} wants them. */
  public List<Path> lowerDirs() {
    return lowerDirs;
  }

  /**
   * The same layers as short names (26 characters each) relative to {@link #linkDir()}, top-most
   * first: mount with the working directory at {@code linkDir()} and {@code lowerdir=} these joined
   * by {@code :}, which stays below a page for 128 layers.
   */
  public List<String> shortLowerDirs() {
    return shortLowerDirs;
  }

  /** The store's {@code l/} directory of short links. */
  public Path linkDir() {
    return linkDir;
  }

  /** {@code lowerdir=} value using short links (relative to {@link #linkDir()}). */
  public String shortLowerDirOption() {
    return String.join(":", shortLowerDirs);
  }

  /** Releases the in-memory pin. Idempotent. */
  @Override
  public void close() {
    if (closed.compareAndSet(false, true)) {
      store.release(image.diffIds());
    }
  }
}
