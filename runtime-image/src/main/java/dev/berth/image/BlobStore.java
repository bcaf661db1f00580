package dev.berth.image;

import dev.berth.image.BlobSource.SourceBlob;
import dev.berth.image.internal.DeferredSync;
import dev.berth.image.internal.DeferredSync.Action;
import dev.berth.image.internal.Files2;
import dev.berth.image.internal.ImageSource.SourceFile;
import dev.berth.image.internal.json.Json;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.util.List;

/**
 * The verified blobs of a store, {@code blobs/<alg>/<hex>}: manifests, configs and compressed
 * layers. A blob is written to {@code tmp/}, hashed and counted while it streams, and renamed into
 * place only once its digest and size match its descriptor.
 */
final class BlobStore {
  private final Path root;
  private final Path blobs;
  private final Path tmp;
  private final DeferredSync durability;
  private final UnpackLimits limits;
  private final DownloadLocks downloads;

  BlobStore(Path root, Path blobs, Path tmp, DeferredSync durability, UnpackLimits limits, DownloadLocks downloads) {
    this.downloads = downloads;
    this.root = root;
    this.blobs = blobs;
    this.tmp = tmp;
    this.durability = durability;
    this.limits = limits;
  }

  Path path(Digest d) {
    return blobs.resolve(d.algorithm()).resolve(d.hex());
  }

  /** The directory blobs of an algorithm live in. */
  Path algorithmDir(String algorithm) {
    return blobs.resolve(algorithm);
  }

  /** A fresh name in {@code tmp/} for a blob being written. */
  Path newTempFile() {
    return tmp.resolve("blob-" + Files2.randomId());
  }

  /** Makes the private {@code blobs/<alg>/} or {@code layers/<alg>/} of {@code object}; only sha256 exists from the start. */
  static void algorithmDir(Path object) throws IOException {
    Path dir = object.getParent();
    if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
      Files2.privateDirectory(dir);
    }
  }

  /** {@link #has}, an I/O error counting as absent (for polling). */
  boolean hasQuietly(Descriptor d) {
    try {
      return has(d);
    } catch (IOException e) {
      return false;
    }
  }

  DownloadLocks downloads() {
    return downloads;
  }

  boolean has(Descriptor d) throws IOException {
    Path p = path(d.digest());
    return Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS) && Files.size(p) == d.size();
  }

  void putBytes(Digest d, byte[] b) throws IOException {
    Path p = path(d);
    if (Files.isRegularFile(p) && Files.size(p) == b.length) {
      return;
    }
    algorithmDir(p);
    Files2.writeAtomically(p, b);
  }

  /**
   * Copies a blob from the source into the store, hashing and counting while streaming. The whole
   * input is read before the verdict; a mismatch deletes the temp file and nothing becomes visible.
   */
  void store(BlobSource src, Descriptor d, int total, ImportProgress listener) throws IOException {
    if (has(d)) {
      listener.blobDone(d);
      return;
    }
    SourceBlob b = src.blob(d).orElseThrow(
        () -> new ImageException(src.description() + ": layer blob " + d.digest() + " is missing"));
    if (b.staged().isEmpty()) {
      // a download: one process at a time (DownloadLocks); a waiter finds the blob stored
      try (DownloadLocks.Held h = downloads.acquire(d.digest(), () -> hasQuietly(d), src::aborted)) {
        if (has(d)) {
          listener.blobDone(d);
          return;
        }
        listener.blobStarted(d, total);
        try (InputStream in = b.open()) {
          putStream(in, d, listener, h::progress);
        }
      }
      listener.blobDone(d);
      return;
    }
    listener.blobStarted(d, total);
    if (b.staged().isPresent() && d.digest().algorithm().equals("sha256")) {
      // staged from an archive into this store's tmp/ and hashed in full while staging: verify and rename
      SourceFile f = b.staged().get();
      Digest actual = f.sha256().orElseThrow();
      if (!actual.equals(d.digest()) || f.size() != d.size()) {
        throw new BlobVerificationException(
            "blob " + d.digest() + " (" + d.mediaType() + ") failed verification: expected size " + d.size()
                + ", got digest " + actual + " and size " + f.size());
      }
      commit(f.path(), d.digest());
      listener.blobProgress(d, f.size());
    } else {
      try (InputStream in = b.open()) {
        putStream(in, d, listener);
      }
    }
    listener.blobDone(d);
  }

  /** Verified streaming write of one blob. */
  void putStream(InputStream in, Descriptor d, ImportProgress listener) throws IOException {
    putStream(in, d, listener, () -> {});
  }

  /** Verified streaming write of one blob, {@code progress} run as bytes arrive. */
  void putStream(InputStream in, Descriptor d, ImportProgress listener, Runnable progress) throws IOException {
    algorithmDir(path(d.digest()));
    Path t = newTempFile();
    MessageDigest md = d.digest().newMessageDigest();
    long n = 0;
    try {
      try (FileChannel ch = FileChannel.open(t, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
        OutputStream out = Channels.newOutputStream(ch);
        byte[] buf = new byte[1 << 20];
        int r;
        while ((r = in.read(buf)) >= 0) {
          md.update(buf, 0, r);
          if (n + r <= d.size()) {
            out.write(buf, 0, r); // past the declared size, keep hashing but stop storing
          }
          n += r;
          if (n > limits.maxTotalBytes()) {
            throw new LimitExceededException("blob " + d.digest() + ": more than " + limits.maxTotalBytes() + " bytes");
          }
          listener.blobProgress(d, r);
          progress.run();
        }
        out.flush();
      }
      verify(d, d.digest().sameAlgorithm(md.digest()), n);
      commit(t, d.digest());
    } finally {
      Files.deleteIfExists(t);
    }
  }

  /** Renames a verified blob into place, undoable until it is on disk. */
  void commit(Path verified, Digest d) throws IOException {
    Path blob = path(d);
    durability.commit(List.of(Action.remove(root, blob)), () -> Files2.move(verified, blob));
  }

  static void verify(Descriptor d, Digest actual, long size) throws BlobVerificationException {
    if (!actual.equals(d.digest()) || size != d.size()) {
      throw new BlobVerificationException(
          "blob " + d.digest() + " (" + d.mediaType() + ") failed verification: expected size " + d.size()
              + ", got digest " + actual + " and size " + size);
    }
  }

  /** A stored JSON blob (manifest, config), bounded by {@code maxJsonBytes}. */
  byte[] readJson(Digest d, String what) throws IOException {
    Path p = path(d);
    try {
      if (Files.size(p) > limits.maxJsonBytes()) {
        throw new LimitExceededException(what + " blob " + d + " is over " + limits.maxJsonBytes() + " bytes");
      }
      return Files.readAllBytes(p);
    } catch (NoSuchFileException e) {
      throw new ImageException(what + " blob " + d + " is missing from the store", e);
    }
  }

  ImageManifest manifest(Digest md) throws IOException {
    return Json.readManifest(readJson(md, "manifest"), "manifest " + md);
  }

  ImageConfig config(Digest d) throws IOException {
    return Json.readConfig(readJson(d, "config"), "config " + d);
  }
}
