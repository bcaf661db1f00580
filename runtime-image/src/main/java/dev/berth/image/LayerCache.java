package dev.berth.image;

import dev.berth.image.BlobSource.SourceBlob;
import dev.berth.image.MediaTypes.Compression;
import dev.berth.image.internal.CountingDigestInputStream;
import dev.berth.image.internal.DeferredSync;
import dev.berth.image.internal.DeferredSync.Action;
import dev.berth.image.internal.DirectFileOutputStream;
import dev.berth.image.internal.Files2;
import dev.berth.image.internal.LayerUnpacker;
import dev.berth.image.internal.TeeInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BiConsumer;

/**
 * The unpacked layers of a store, {@code layers/<alg>/<diffid-hex>/} with their short links
 * {@code l/<26-char id>}: each DiffID is unpacked at most once at a time in the JVM (concurrent
 * callers join the unpack in flight), into staging that becomes visible by one rename only once
 * the blob and the DiffID verified. A rootless store writes a layer's {@link LayerOwners} list
 * before that rename, and removes it only after the layer's directory left its name.
 */
final class LayerCache {
  private final Path root;
  private final Path layers;
  private final Path links;
  private final BlobStore blobs;
  private final DeferredSync durability;
  private final UnpackLimits limits;
  private final boolean rootless;
  private final ExecutorService workers;
  private final ConcurrentHashMap<Digest, CompletableFuture<Path>> unpacking;
  private final ConcurrentHashMap<Digest, AtomicInteger> leases;
  /** The unpacks this store runs (a subset of {@link #unpacking}), with their DiffIDs. */
  private final ConcurrentHashMap<CompletableFuture<Path>, Digest> ownUnpacks = new ConcurrentHashMap<>();
  private final AtomicLong layersUnpacked = new AtomicLong();
  private final AtomicLong bytesUnpacked = new AtomicLong();

  /**
   * Test seam: runs on the thread that is about to remove the unpack of a DiffID from {@link
   * #unpacking}, given the unpack's future.
   */
  volatile BiConsumer<Digest, Future<Path>> beforeDeregistering = (diffId, unpack) -> {};

  LayerCache(
      Path root, Path layers, Path links, BlobStore blobs, DeferredSync durability, UnpackLimits limits,
      boolean rootless, ExecutorService workers, ConcurrentHashMap<Digest, CompletableFuture<Path>> unpacking,
      ConcurrentHashMap<Digest, AtomicInteger> leases) {
    this.root = root;
    this.layers = layers;
    this.links = links;
    this.blobs = blobs;
    this.durability = durability;
    this.limits = limits;
    this.rootless = rootless;
    this.workers = workers;
    this.unpacking = unpacking;
    this.leases = leases;
  }

  Path linkDir() {
    return links;
  }

  ImageStore.Stats stats() {
    return new ImageStore.Stats(layersUnpacked.get(), bytesUnpacked.get());
  }

  /** The unpacked directory of a layer (may not exist yet). */
  Path dir(Digest diffId) {
    return layers.resolve(diffId.algorithm()).resolve(diffId.hex());
  }

  /** The directory unpacked layers of an algorithm live in. */
  Path algorithmDir(String algorithm) {
    return layers.resolve(algorithm);
  }

  Path link(Digest diffId) {
    return links.resolve(shortId(diffId));
  }

  /** The 26-character short link name of a layer, as containers/storage uses. */
  static String shortId(Digest diffId) {
    byte[] h = Digest.newSha256().digest(diffId.toString().getBytes(StandardCharsets.UTF_8));
    return base32(Arrays.copyOf(h, 16));
  }

  private static String base32(byte[] b) {
    final String alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    StringBuilder sb = new StringBuilder();
    int buffer = 0;
    int bits = 0;
    for (byte x : b) {
      buffer = (buffer << 8) | (x & 0xff);
      bits += 8;
      while (bits >= 5) {
        sb.append(alphabet.charAt((buffer >> (bits - 5)) & 31));
        bits -= 5;
      }
    }
    if (bits > 0) {
      sb.append(alphabet.charAt((buffer << (5 - bits)) & 31));
    }
    return sb.toString();
  }

  boolean ready(Digest diffId) {
    return Files.isDirectory(dir(diffId), LinkOption.NOFOLLOW_LINKS)
        && Files.exists(link(diffId), LinkOption.NOFOLLOW_LINKS);
  }

  // ---- in-memory pins

  void lease(List<Digest> diffIds) {
    for (Digest d : diffIds) {
      leases.computeIfAbsent(d, k -> new AtomicInteger()).incrementAndGet();
    }
  }

  void release(List<Digest> diffIds) {
    for (Digest d : diffIds) {
      leases.computeIfPresent(d, (k, v) -> v.decrementAndGet() <= 0 ? null : v);
    }
  }

  java.util.Set<Digest> leased() {
    return leases.keySet();
  }

  /** Fails the unpacks still running (the store is closing); the workers are shut down already. */
  void abandonUnpacks() {
    for (Map.Entry<CompletableFuture<Path>, Digest> u : List.copyOf(ownUnpacks.entrySet())) {
      settle(u.getValue(), u.getKey(), null,
          new ImageException("image store " + root + " was closed during the unpack of layer " + u.getValue()));
    }
  }

  // ---- unpacking

  CompletableFuture<Path> ensureUnpacked(Descriptor blob, Digest diffId, int index, int count, ImportProgress listener) {
    if (ready(diffId)) {
      return CompletableFuture.completedFuture(dir(diffId));
    }
    CompletableFuture<Path> mine = new CompletableFuture<>();
    CompletableFuture<Path> existing = unpacking.putIfAbsent(diffId, mine);
    if (existing != null) {
      return existing;
    }
    if (ready(diffId)) {
      // committed by an unpack that finished between the first check and the registration; a
      // caller may have joined mine meanwhile, so it is settled, not only dropped
      settle(diffId, mine, dir(diffId), null);
      return mine;
    }
    return runOwned(diffId, mine, () -> unpackStored(blob, diffId, index, count, listener));
  }

  /** Runs the unpack of {@code diffId} that {@code mine} (registered in {@link #unpacking}) stands for. */
  private CompletableFuture<Path> runOwned(Digest diffId, CompletableFuture<Path> mine, Callable<Path> unpack) {
    ownUnpacks.put(mine, diffId);
    try {
      workers.execute(() -> {
        Path d;
        try {
          d = unpack.call();
        } catch (Throwable t) {
          settle(diffId, mine, null, t);
          return;
        }
        settle(diffId, mine, d, null);
      });
    } catch (RejectedExecutionException e) {
      settle(diffId, mine, null, new ImageException("image store " + root + " is closed"));
    }
    return mine;
  }

  /**
   * Ends the unpack {@code mine} of {@code diffId}: removes it from {@link #unpacking}, and only
   * then publishes its outcome ({@code dir}, or {@code failure}). In the other order (the removal
   * in a completion callback) a caller could see the outcome while the unpack could still be
   * joined: a callback runs after the waiting thread was woken, so a failed import could return,
   * clean up, and the next import of the same DiffID join the failed unpack and fail with its
   * error (another blob's "wrong DiffID"); a later import could likewise join an unpack that
   * succeeded before its layer was removed, and return with the layer missing.
   */
  private void settle(Digest diffId, CompletableFuture<Path> mine, Path d, Throwable failure) {
    beforeDeregistering.accept(diffId, mine);
    unpacking.remove(diffId, mine);
    ownUnpacks.remove(mine);
    if (failure == null) {
      mine.complete(d);
    } else {
      mine.completeExceptionally(failure);
    }
  }

  /**
   * The work that makes one layer of an import present: nothing, storing its blob, unpacking it
   * from the stored blob, or (the usual case) one read of the source blob that does both.
   */
  List<Future<?>> fetch(
      BlobSource src, Descriptor l, Digest diffId, int index, int count, int total, ImportProgress listener)
      throws IOException {
    boolean haveBlob = blobs.has(l);
    if (ready(diffId)) {
      if (haveBlob) {
        listener.blobDone(l);
        return List.of();
      }
      return List.of(storeBlobLater(src, l, total, listener));
    }
    if (haveBlob) {
      listener.blobDone(l);
      return List.of(ensureUnpacked(l, diffId, index, count, listener));
    }
    SourceBlob b = src.blob(l).orElseThrow(
        () -> new ImageException(src.description() + ": layer blob " + l.digest() + " is missing"));
    compression(l); // an unknown media type is refused before any work starts
    CompletableFuture<Path> mine = new CompletableFuture<>();
    CompletableFuture<Path> existing = unpacking.putIfAbsent(diffId, mine);
    if (existing != null || ready(diffId)) {
      // this JVM unpacks (or just unpacked) the same DiffID, maybe from another blob: only store ours
      if (existing == null) {
        settle(diffId, mine, dir(diffId), null); // a caller may have joined it meanwhile
      }
      List<Future<?>> work = new ArrayList<>();
      if (existing != null) {
        work.add(existing);
        // after the unpack in flight: when it came from the same blob (two pulls of one image), that
        // blob is stored by then and is not downloaded a second time
        work.add(existing.handle((p, t) -> null).thenRunAsync(() -> {
          try {
            blobs.store(src, l, total, listener);
          } catch (IOException e) {
            throw new UncheckedIOException(e);
          }
        }, workers));
      } else {
        work.add(storeBlobLater(src, l, total, listener));
      }
      return work;
    }
    return List.of(runOwned(diffId, mine, () -> {
      if (b.staged().isPresent()) {
        // staged from an archive and hashed already: moving it in costs nothing
        blobs.store(src, l, total, listener);
        return unpackStored(l, diffId, index, count, listener);
      }
      // a download: one process at a time (DownloadLocks); a waiter then finds the blob stored
      try (DownloadLocks.Held h = blobs.downloads().acquire(l.digest(), () -> blobs.hasQuietly(l), src::aborted)) {
        if (blobs.has(l)) {
          listener.blobDone(l);
          return ready(diffId) ? dir(diffId) : unpackStored(l, diffId, index, count, listener);
        }
        return stream(b, l, diffId, total, listener, h::progress);
      }
    }));
  }

  private Future<?> storeBlobLater(BlobSource src, Descriptor l, int total, ImportProgress listener) {
    return workers.submit(() -> {
      blobs.store(src, l, total, listener);
      return null;
    });
  }

  private static Compression compression(Descriptor blob) throws ImageException {
    return MediaTypes.layerCompression(blob.mediaType()).orElseThrow(
        () -> new ImageException("layer " + blob.digest() + " has unsupported media type `" + blob.mediaType() + "`"));
  }

  /**
   * Stores, verifies and unpacks a layer in one read of the source blob. The blob's digest and size
   * are checked after the whole blob was read (trailing bytes included); a blob that is not what the
   * manifest says is reported as such even when the unpacker tripped over it first. Nothing becomes
   * visible unless both the blob and the DiffID verify.
   */
  private Path stream(SourceBlob b, Descriptor l, Digest diffId, int total, ImportProgress listener, Runnable progress)
      throws IOException {
    Compression c = compression(l);
    listener.blobStarted(l, total);
    Path blobTmp = blobs.newTempFile();
    Path staging = layers.resolve(".tmp-" + Files2.randomId());
    Files.createDirectory(staging);
    try {
      LayerUnpacker.Result r;
      try (DirectFileOutputStream out = DirectFileOutputStream.create(blobTmp);
          SourceStream in = new SourceStream(b.open())) {
        CountingDigestInputStream raw = new CountingDigestInputStream(
            new TeeInputStream(in, out, l.size(), n -> {
              listener.blobProgress(l, n);
              progress.run();
            }),
            l.digest().newMessageDigest(), limits.maxTotalBytes(), "blob " + l.digest());
        try {
          r = LayerUnpacker.unpack(raw, c, diffId, staging, limits, l.digest().toString(), rootless);
        } catch (IOException | RuntimeException e) {
          if (in.failure != null) {
            // the source failed (a registry gave up or refused): that is the error, not what the
            // unpacker made of the missing bytes
            if (in.failure != e) {
              in.failure.addSuppressed(e);
            }
            throw in.failure();
          }
          try {
            raw.drain();
            BlobStore.verify(l, l.digest().sameAlgorithm(raw.digest()), raw.count());
          } catch (BlobVerificationException notTheBlob) {
            notTheBlob.addSuppressed(e);
            throw notTheBlob;
          } catch (IOException | RuntimeException secondary) {
            e.addSuppressed(secondary);
          }
          throw e;
        }
        raw.drain(); // bytes after the end of the compressed stream are part of the blob too
        BlobStore.verify(l, l.digest().sameAlgorithm(raw.digest()), raw.count());
      }
      Path blob = blobs.path(l.digest());
      BlobStore.algorithmDir(blob);
      LayerUnpacker.Result unpacked = r;
      durability.commit(
          List.of(Action.remove(root, blob), Action.remove(root, dir(diffId)), Action.remove(root, link(diffId)),
              Action.remove(root, LayerOwners.fileFor(dir(diffId)))),
          () -> {
            Files2.move(blobTmp, blob);
            commit(staging, diffId, unpacked, listener);
          });
      listener.blobDone(l);
      return dir(diffId);
    } catch (Throwable t) {
      Files2.deleteTreeQuietly(staging, t);
      throw t;
    } finally {
      Files.deleteIfExists(blobTmp);
    }
  }

  /**
   * The source's stream, remembering the first failure it threw: an IOException, or a registry's
   * (unchecked) RegistryException.
   */
  private static final class SourceStream extends java.io.FilterInputStream {
    Exception failure;

    /** The recorded failure, to throw as it was thrown. */
    IOException failure() {
      if (failure instanceof RuntimeException r) {
        throw r;
      }
      return (IOException) failure;
    }

    SourceStream(InputStream in) {
      super(in);
    }

    @Override
    public int read() throws IOException {
      try {
        return super.read();
      } catch (IOException | RuntimeException e) {
        failure = failure == null ? e : failure;
        throw e;
      }
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
      try {
        return in.read(b, off, len);
      } catch (IOException | RuntimeException e) {
        failure = failure == null ? e : failure;
        throw e;
      }
    }
  }

  private Path unpackStored(Descriptor blob, Digest diffId, int index, int count, ImportProgress listener)
      throws IOException {
    Path d = dir(diffId);
    if (Files.isDirectory(d, LinkOption.NOFOLLOW_LINKS)) {
      ensureLink(diffId);
      return d;
    }
    Compression c = compression(blob);
    Path p = blobs.path(blob.digest());
    if (!Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)) {
      throw new ImageException("layer blob " + blob.digest() + " (layer " + (index + 1) + " of " + count + ") is missing from the store");
    }
    Path staging = layers.resolve(".tmp-" + Files2.randomId());
    Files.createDirectory(staging);
    try (InputStream in = Files.newInputStream(p)) {
      LayerUnpacker.Result r = LayerUnpacker.unpack(in, c, diffId, staging, limits, blob.digest().toString(), rootless);
      durability.commit(
          List.of(Action.remove(root, d), Action.remove(root, link(diffId)), Action.remove(root, LayerOwners.fileFor(d))),
          () -> commit(staging, diffId, r, listener));
    } catch (Throwable t) {
      Files2.deleteTreeQuietly(staging, t);
      throw t;
    }
    return d;
  }

  /**
   * Renames a verified staging directory into place (another process may have won) and links it.
   * The layer's owners list goes first, so the layer is never visible without it; a winner's list
   * is the same (same DiffID, same entries), and a failed rename leaves none of its own behind.
   */
  private void commit(Path staging, Digest diffId, LayerUnpacker.Result r, ImportProgress listener)
      throws IOException {
    Path d = dir(diffId);
    BlobStore.algorithmDir(d);
    LayerOwners.write(d, r.owners());
    try {
      Files.move(staging, d, StandardCopyOption.ATOMIC_MOVE);
      layersUnpacked.incrementAndGet();
      bytesUnpacked.addAndGet(r.bytesWritten());
      listener.layerUnpacked(diffId, r.bytesWritten());
    } catch (FileSystemException e) {
      // rename(2) onto a non-empty directory fails with ENOTEMPTY, which Java reports only as a
      // generic FileSystemException: another process (or thread) committed this layer first
      if (!Files.isDirectory(d, LinkOption.NOFOLLOW_LINKS)) {
        deleteOwnersQuietly(d, e);
        throw e;
      }
      Files2.deleteTree(staging); // the winner's copy is equally verified
    } catch (IOException | RuntimeException e) {
      if (!Files.isDirectory(d, LinkOption.NOFOLLOW_LINKS)) {
        deleteOwnersQuietly(d, e);
      }
      throw e;
    }
    makeLink(diffId);
  }

  /** A layer directory without its short link (a crash between the two): link it, durably undoable. */
  private void ensureLink(Digest diffId) throws IOException {
    if (Files.exists(link(diffId), LinkOption.NOFOLLOW_LINKS)) {
      return;
    }
    durability.commit(List.of(Action.remove(root, link(diffId))), () -> makeLink(diffId));
  }

  private void makeLink(Digest diffId) throws IOException {
    Path link = link(diffId);
    if (!Files.exists(link, LinkOption.NOFOLLOW_LINKS)) {
      Path tmpLink = links.resolve(".tmp-" + Files2.randomId());
      Files.createSymbolicLink(tmpLink, Path.of("..", "layers", diffId.algorithm(), diffId.hex()));
      Files2.move(tmpLink, link);
    }
  }

  private static void deleteOwnersQuietly(Path layerDir, Throwable primary) {
    try {
      Files.deleteIfExists(LayerOwners.fileFor(layerDir));
    } catch (IOException also) {
      primary.addSuppressed(also);
    }
  }

  /**
   * Deletes an unpacked layer, its link and the files beside it (owners list, marker); moved aside first so a half-deleted
   * layer is never visible under its name, and the list goes only once the layer is gone from it.
   */
  void delete(Path layerDir, Digest diffIdOrNull) throws IOException {
    if (diffIdOrNull != null) {
      Files.deleteIfExists(link(diffIdOrNull));
    }
    Path doomed = layers.resolve(".tmp-rm-" + Files2.randomId());
    Files2.move(layerDir, doomed);
    for (String suffix : GarbageCollector.BESIDE_LAYER) { // its owners list, the runtime's marker of owners given
      Files.deleteIfExists(layerDir.resolveSibling(layerDir.getFileName() + suffix));
    }
    Files2.deleteTree(doomed);
  }
}
