package dev.berth.image;

import dev.berth.image.internal.ImageSource;
import dev.berth.image.internal.ImageSource.SourceFile;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.util.Optional;

/**
 * Where the bytes of an image's blobs come from: a layout or archive being imported, or a registry
 * being pulled from. The bytes are untrusted; the store verifies them while it reads.
 */
interface BlobSource {
  /** Names the source in errors, e.g. {@code archive /tmp/app.tar}. */
  String description();

  /** The blob {@code d}, or empty when the source does not have it. */
  Optional<SourceBlob> blob(Descriptor d) throws IOException;

  /**
   * The caller was interrupted: end the reads in flight (a download would otherwise run to its
   * end before the import can fail). Reads fail from now on. A local file source has nothing to end.
   */
  default void abort() {}

  /** Whether {@link #abort()} was called: waits for another process's download of a blob end then. */
  default boolean aborted() {
    return false;
  }

  /** One blob of a source. */
  interface SourceBlob {
    /**
     * A file already staged in this store's {@code tmp/} and hashed (sha256) in full while staging:
     * moving it in costs nothing. Empty when the blob must be read through {@link #open}.
     */
    Optional<SourceFile> staged();

    /** Opens the blob's bytes; the caller verifies them. */
    InputStream open() throws IOException;
  }

  /** The blobs of an OCI layout or an archive. */
  static BlobSource of(ImageSource src) {
    return new BlobSource() {
      @Override
      public String description() {
        return src.description;
      }

      @Override
      public Optional<SourceBlob> blob(Descriptor d) throws IOException {
        return src.blob(d.digest()).map(f -> new SourceBlob() {
          @Override
          public Optional<SourceFile> staged() {
            return f.sha256().isPresent() ? Optional.of(f) : Optional.empty();
          }

          @Override
          public InputStream open() throws IOException {
            return Files.newInputStream(f.path());
          }
        });
      }
    };
  }
}
