package dev.berth.image;

import dev.berth.image.internal.DeferredSync;
import dev.berth.image.internal.Files2;
import dev.berth.image.internal.StoreLock;
import dev.berth.image.internal.linux.LinuxFs;
import dev.berth.image.registry.PullOptions;
import dev.berth.image.registry.RegistryException;
import dev.berth.image.registry.RegistryReference;
import dev.berth.linux.internal.ProcStatus;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A content-addressed image store under one root directory:
 *
 * <pre>
 * blobs/sha256/&lt;hex&gt;          verified blobs (manifests, configs, compressed layers)
 * layers/sha256/&lt;diffid-hex&gt;/  unpacked, overlay-ready layers (visible only once complete and verified)
 * layers/sha256/&lt;hex&gt;.owners.json  rootless: the layer's entries of other owners ({@link LayerOwners})
 * layers/.tmp-&lt;random&gt;/        unpack staging (removed on failure and on open)
 * l/&lt;26-char id&gt;              short symlinks to layer dirs, for lowerdir strings
 * refs/&lt;url-encoded name:tag&gt;  manifest digest, written atomically
 * pins/&lt;holder&gt;               layers pinned by a holder (e.g. a created container)
 * pending/&lt;random&gt;.intent     commits not yet known to be on disk (see DeferredSync)
 * tmp/                        import staging
 * downloads/&lt;alg&gt;-&lt;hex&gt;.lock  who downloads a blob, across processes (DownloadLocks)
 * store.lock                  shared/exclusive lock across threads and processes (StoreLock)
 * </pre>
 *
 * <p>Only the owner can enter the areas (0700): unpacked layers hold setuid files and device
 * nodes an image shipped. The root and every area must belong to the user that opens the store
 * and the root must not be writable by others, or the store is refused.
 *
 * <p>Opened by an ordinary user (effective uid not 0), the store is <em>rootless</em>: every
 * unpacked file is that user's, and a layer's entries whose tar header names another owner are
 * listed in its {@link LayerOwners} file; device nodes become empty files of mode 0, opaque
 * directories are marked with {@code user.overlay.opaque} (for an overlay mounted with {@code
 * userxattr}) and the xattrs only root can set are dropped. {@link #defaultRoot()} is then under
 * {@code $XDG_DATA_HOME}.
 *
 * <p>Importing a layout reads each layer blob once: the same read stores the blob, verifies its
 * digest and feeds the unpacker, so an imported image is ready to run when {@link #importImage}
 * returns. Commits are visible at once and durable shortly after ({@link #sync}); a crash never
 * leaves a visible object whose data did not reach the disk.
 *
 * <p>Thread-safe. Stores opened on one root in one JVM share their lock and in-memory state; across
 * processes the store lock orders removal against imports, and atomic renames settle the rest (two
 * processes unpacking the same layer both succeed; one rename wins).
 */
public final class ImageStore implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(ImageStore.class);

  private final Path root;
  private final Path layersDir;
  private final Path tmp;
  private final Path downloadsDir;
  private final DownloadLocks downloads;
  private final Path pending;
  private final DeferredSync durability;
  private final UnpackLimits limits;
  private final boolean rootless;
  private final ExecutorService workers;
  private final StoreLock lock;
  private final AtomicBoolean closed = new AtomicBoolean();
  private final BlobStore blobs;
  private final LayerCache layers;
  private final RefStore refs;
  private final Pins pins;
  private final GarbageCollector gc;
  private final Importer importer;
  private final Puller puller;

  /** Counters, mostly for tests and benchmarks. */
  public record Stats(long layersUnpacked, long bytesUnpacked) {}

  private ImageStore(Path root, UnpackLimits limits, int threads, boolean rootless) throws IOException {
    this.root = root.toAbsolutePath().normalize();
    Path blobsDir = this.root.resolve("blobs");
    this.layersDir = this.root.resolve("layers");
    Path links = this.root.resolve("l");
    Path refsDir = this.root.resolve("refs");
    Path pinsDir = this.root.resolve("pins");
    this.tmp = this.root.resolve("tmp");
    this.pending = this.root.resolve("pending");
    this.downloadsDir = this.root.resolve("downloads");
    this.limits = limits;
    this.rootless = rootless;
    // Unpacked layers hold setuid files and device nodes an image shipped: no other user may reach
    // them. The root is made 0700 when created here; every area below it is made (or tightened
    // to) 0700 on each open, so the protection does not depend on the mode of an existing root.
    Files2.createPrivateIfMissing(this.root);
    int euid = (int) ProcStatus.effectiveUid();
    Files2.requireOwnedRoot(this.root, euid, "image store");
    for (Path p : List.of(blobsDir, blobsDir.resolve("sha256"), layersDir, layersDir.resolve("sha256"), links, refsDir,
        pinsDir, tmp, pending, downloadsDir)) {
      Files2.privateDirectory(p);
      Files2.requireOwner(p, euid, "image store area");
    }
    this.downloads = new DownloadLocks(downloadsDir);
    this.lock = StoreLock.acquire(this.root.resolve("store.lock"));
    try {
      this.durability = recover();
    } catch (IOException | RuntimeException e) {
      try {
        lock.close(); // else its channel stays open, and the root registered, for the JVM's life
      } catch (IOException also) {
        e.addSuppressed(also);
      }
      throw e;
    }
    // Binding libc through JNA takes ~0.1 s in a fresh JVM, and the first layer's unpack would
    // wait for it after the JSON is read; done now, it overlaps with reading index and manifest.
    Thread preload = new Thread(() -> {
      try {
        LinuxFs.bind();
      } catch (Throwable e) {
        LOG.debug("preloading the libc binding: {}", e.toString()); // the unpack reports it properly
      }
    }, "berth-image-preload");
    preload.setDaemon(true);
    preload.start();
    AtomicInteger n = new AtomicInteger();
    this.workers =
        Executors.newFixedThreadPool(
            threads,
            r -> {
              Thread t = new Thread(r, "berth-image-" + n.incrementAndGet());
              t.setDaemon(true);
              return t;
            });
    this.blobs = new BlobStore(this.root, blobsDir, tmp, durability, limits, downloads);
    this.layers = new LayerCache(
        this.root, layersDir, links, blobs, durability, limits, rootless, workers, lock.unpacking, lock.leases);
    this.refs = new RefStore(this.root, refsDir, blobs, durability);
    this.pins = new Pins(pinsDir);
    this.gc = new GarbageCollector(refs, blobs, layers, pins);
    this.importer = new Importer(blobs, layers, refs, limits, tmp);
    this.puller = new Puller(importer, limits);
  }

  /**
   * Settles what a crash left (intents, staging) and starts tracking durability. Staging never
   * becomes visible, so it is safe to drop, but only when nobody else (thread or process) uses the
   * store, since their staging looks the same.
   */
  private DeferredSync recover() throws IOException {
    String boot = DeferredSync.currentBootId();
    lock.ifAlone(() -> {
      int undone = DeferredSync.recover(root, pending, boot);
      if (undone > 0) {
        LOG.warn("image store {}: undid {} commits that a crash may have left without their data", root, undone);
      }
      try (Stream<Path> s = Files.list(layersDir)) {
        for (Path p : (Iterable<Path>) s::iterator) {
          if (p.getFileName().toString().startsWith(".tmp-")) {
            Files2.deleteTree(p);
          }
        }
      }
      try (Stream<Path> s = Files.list(tmp)) {
        for (Path p : (Iterable<Path>) s::iterator) {
          Files2.deleteTree(p);
        }
      }
      downloads.clear(); // lock files of failed or killed downloads
    });
    return new DeferredSync(root, pending, boot);
  }

  /** Opens (creating if needed) a store with default limits. */
  public static ImageStore open(Path root) throws IOException {
    return open(root, UnpackLimits.DEFAULTS);
  }

  public static ImageStore open(Path root, UnpackLimits limits) throws IOException {
    return open(root, limits, !ProcStatus.isRoot());
  }

  /**
   * Test seam: a store that unpacks rootless (or rootful) whoever runs it. A rootful store run by
   * an ordinary user fails at its first chown; a rootless one run by root behaves as for a user.
   */
  static ImageStore open(Path root, UnpackLimits limits, boolean rootless) throws IOException {
    return new ImageStore(root, limits, Math.max(2, Math.min(8, Runtime.getRuntime().availableProcessors())), rootless);
  }

  /**
   * The default store root: {@code /var/lib/berth} for root; for an ordinary user {@code
   * $XDG_DATA_HOME/berth}, else {@code $HOME/.local/share/berth} (as podman keeps its storage).
   *
   * @throws ImageException when neither variable is set to an absolute path for an ordinary user
   */
  public static Path defaultRoot() {
    return defaultRoot(ProcStatus.isRoot(), System.getenv());
  }

  /**
   * {@link #defaultRoot()} for a process that is root or not, with this environment ({@code
   * XDG_DATA_HOME}, {@code HOME}; the passwd entry's home when HOME is unset).
   *
   * @throws ImageException when XDG_DATA_HOME is relative, or no home is known, for an ordinary user
   */
  public static Path defaultRoot(boolean root, java.util.Map<String, String> env) {
    if (root) {
      return Path.of("/var/lib/berth");
    }
    String data = env.get("XDG_DATA_HOME");
    if (data != null && !data.isEmpty()) {
      if (!data.startsWith("/")) {
        throw new ImageException("rootless: XDG_DATA_HOME=" + data + " is not an absolute path; set it to one"
            + " or unset it (the storage root is then $HOME/.local/share/berth)");
      }
      return Path.of(data, "berth");
    }
    String home = env.get("HOME");
    if (home == null || home.isEmpty()) {
      home = System.getProperty("user.home"); // the passwd entry's
    }
    if (home == null || !home.startsWith("/")) {
      throw new ImageException("rootless: neither XDG_DATA_HOME nor HOME names an absolute directory for the"
          + " storage root; set one, or pass a storage root");
    }
    return Path.of(home, ".local", "share", "berth");
  }

  public Path root() {
    return root;
  }

  /**
   * Whether this store unpacks as an ordinary user: files are the user's, with the owners the
   * image named in each layer's {@link LayerOwners} list (decided once, from the effective uid).
   */
  public boolean rootless() {
    return rootless;
  }

  public UnpackLimits limits() {
    return limits;
  }

  public Stats stats() {
    return layers.stats();
  }

  /** The layer cache (package-private, for tests). */
  LayerCache layerCache() {
    return layers;
  }

  /** The blob store (package-private, for tests). */
  BlobStore blobStore() {
    return blobs;
  }

  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    workers.shutdownNow();
    layers.abandonUnpacks();
    durability.close();
    try {
      lock.close();
    } catch (IOException e) {
      LOG.debug("closing the store lock: {}", e.getMessage());
    }
  }

  /**
   * Blocks until everything this store committed so far (blobs, layers, refs) is on stable
   * storage. Imports do not wait for the disk; {@link #close} does.
   */
  public void sync() throws IOException {
    durability.awaitDurable();
  }

  // =====================================================================================
  // import

  /**
   * Imports an image from an OCI image layout directory, an oci-archive tar or a docker-archive tar
   * ({@code docker save}), verifying every blob, and records {@code name} (default: the layout's
   * {@code org.opencontainers.image.ref.name} or the archive's first RepoTag). Layers are unpacked
   * lazily by {@link #prepare}.
   */
  public Image importImage(Path source, Optional<String> name, ImportProgress progress) throws IOException {
    ImportProgress listener = progress == null ? ImportProgress.NONE : progress;
    Optional<ImageReference> wanted = name.map(ImageReference::parse);
    return storing(() -> importer.importFrom(source, wanted, listener));
  }

  /**
   * Pulls {@code reference} ({@code busybox}, {@code registry.example/team/app:1.4}, {@code
   * …@sha256:…}; normalised as docker does, with {@code options}' default registry) from its
   * registry and stores it under {@link RegistryReference#storeName()}, e.g. {@code
   * docker.io/library/busybox:latest}. Index, manifest and config are verified against their
   * digests, every layer blob while it streams; layers already present are not downloaded again,
   * the others download in parallel (bounded) and are unpacked as they arrive, and the ref is
   * written last. A failed or interrupted pull leaves nothing behind and can simply be retried.
   *
   * @throws RegistryException naming the reference, the registry and its error code
   * @throws IllegalArgumentException for a malformed reference
   */
  public Image pull(String reference, PullOptions options, ImportProgress progress) throws IOException {
    PullOptions o = options == null ? PullOptions.DEFAULTS : options;
    return pull(resolveReference(reference, o), o, progress);
  }

  /**
   * {@code reference} normalised as {@link #pull(String, PullOptions, ImportProgress)} does: a short
   * name gets {@code options}' default registry when one was set, else the one registry of
   * registries.conf's {@code unqualified-search-registries}, else Docker Hub.
   *
   * @throws ImageException when registries.conf is malformed, or lists several search registries for a short name
   * @throws IllegalArgumentException for a malformed reference
   */
  public static RegistryReference resolveReference(String reference, PullOptions options) throws IOException {
    PullOptions o = options == null ? PullOptions.DEFAULTS : options;
    String registry = o.defaultRegistry();
    if (!o.defaultRegistrySet() && reference != null && RegistryReference.isShortName(reference)) {
      registry = Puller.registriesConf(o).shortNameRegistry(reference);
    }
    return RegistryReference.parse(reference, registry);
  }

  /** {@link #pull(String, PullOptions, ImportProgress)} of a parsed reference. */
  public Image pull(RegistryReference reference, PullOptions options, ImportProgress progress) throws IOException {
    PullOptions o = options == null ? PullOptions.DEFAULTS : options;
    ImportProgress listener = progress == null ? ImportProgress.NONE : progress;
    return storing(() -> puller.pull(reference, o, listener));
  }

  /** Work that stores an image. */
  interface StoringWork {
    Image run() throws IOException;
  }

  /**
   * Runs {@code work} under the read lock, busy for durability; a failure leaves nothing behind:
   * what it stored or unpacked has no ref, so it is garbage and collected before the error is thrown.
   */
  Image storing(StoringWork work) throws IOException {
    try (DeferredSync.Busy busy = durability.busy()) {
      lock.lockRead();
      try {
        return work.run();
      } finally {
        lock.unlockRead();
      }
    } catch (IOException | RuntimeException e) {
      try {
        lock.lockWrite();
        try {
          gc.collect();
        } finally {
          lock.unlockWrite();
        }
      } catch (IOException | RuntimeException also) {
        e.addSuppressed(also);
      }
      throw e;
    }
  }

  Importer importer() {
    return importer;
  }

  // =====================================================================================
  // refs and images

  /** The image a {@code name[:tag]} points at, if any. */
  public Optional<Image> find(String nameTag) throws IOException {
    lock.lockRead();
    try {
      return refs.find(ImageReference.parse(nameTag));
    } finally {
      lock.unlockRead();
    }
  }

  /** All images (one per name:tag), sorted by name. */
  public List<Image> images() throws IOException {
    lock.lockRead();
    try {
      return refs.images();
    } finally {
      lock.unlockRead();
    }
  }

  // =====================================================================================
  // prepare / unpack

  /**
   * Ensures every layer of {@code nameTag} is unpacked (independent layers in parallel, each layer
   * exactly once even under concurrent calls) and pins them until the result is closed.
   */
  public PreparedImage prepare(String nameTag) throws IOException {
    return prepare(nameTag, ImportProgress.NONE);
  }

  public PreparedImage prepare(String nameTag, ImportProgress listener) throws IOException {
    lock.lockRead();
    try (DeferredSync.Busy busy = durability.busy()) {
      Image img = refs.find(ImageReference.parse(nameTag)).orElseThrow(() -> new ImageException("no such image: " + nameTag));
      return prepared(img, nameTag, listener);
    } finally {
      lock.unlockRead();
    }
  }

  /**
   * The image {@code holder} {@linkplain #pin pinned}, prepared again: the same manifest, config and layers
   * whatever {@code name} points at by now (a restarted container runs the image it was created from, as
   * docker's and podman's restarts do after a pull or an import moved its tag).
   *
   * @param name the name the result carries ({@link Image#name()}): the one the holder was created with
   * @return empty when {@code holder} has no pin, or a pin written before pins recorded their image
   */
  public Optional<PreparedImage> preparePinned(String holder, String name) throws IOException {
    Pins.checkHolder(holder);
    lock.lockRead();
    try (DeferredSync.Busy busy = durability.busy()) {
      Optional<Digest> md = pins.manifestOf(holder);
      if (md.isEmpty()) {
        return Optional.empty();
      }
      ImageManifest m;
      ImageConfig c;
      try {
        m = blobs.manifest(md.get());
        c = blobs.config(m.config().digest());
      } catch (java.nio.file.NoSuchFileException e) {
        throw new ImageException("image " + name + " pinned by " + holder + " (manifest " + md.get()
            + "): its blobs are gone from the store: " + e.getMessage(), e);
      }
      return Optional.of(prepared(new Image(name, md.get(), c, c.diffIds()), name, ImportProgress.NONE));
    } finally {
      lock.unlockRead();
    }
  }

  /** Under the read lock: unpacks what is missing of {@code img}'s layers and leases them. */
  private PreparedImage prepared(Image img, String nameTag, ImportProgress listener) throws IOException {
    ImageManifest m = blobs.manifest(img.manifestDigest());
    if (m.layers().size() > limits.maxLayers()) {
      throw new LimitExceededException("image " + nameTag + " has " + m.layers().size()
          + " layers, over the limit of " + limits.maxLayers());
    }
    List<CompletableFuture<Path>> fs = new ArrayList<>();
    for (int i = 0; i < m.layers().size(); i++) {
      fs.add(layers.ensureUnpacked(m.layers().get(i), img.diffIds().get(i), i, m.layers().size(), listener));
    }
    PendingWork.await(fs, "prepare of " + nameTag);
    List<Path> lower = new ArrayList<>();
    List<String> shortLower = new ArrayList<>();
    for (int i = img.diffIds().size() - 1; i >= 0; i--) {
      Digest d = img.diffIds().get(i);
      lower.add(layers.dir(d));
      shortLower.add(LayerCache.shortId(d));
    }
    layers.lease(img.diffIds());
    return new PreparedImage(this, img, lower, shortLower, layers.linkDir());
  }

  void release(List<Digest> diffIds) {
    layers.release(diffIds);
  }

  /** The unpacked directory of a layer (may not exist yet). */
  public Path layerDir(Digest diffId) {
    return layers.dir(diffId);
  }

  /** The 26-character short link name of a layer, as containers/storage uses. */
  public static String shortId(Digest diffId) {
    return LayerCache.shortId(diffId);
  }

  // =====================================================================================
  // pins, removal, garbage collection

  /** Persistently pins the layers of {@code image} for {@code holder} (e.g. a container id). */
  public void pin(String holder, PreparedImage image) throws IOException {
    pins.write(holder, image.image());
  }

  /** Drops a persistent pin and collects layers nothing references any more. */
  public void unpin(String holder) throws IOException {
    Pins.checkHolder(holder);
    lock.lockWrite();
    try {
      pins.delete(holder);
      gc.collect();
    } finally {
      lock.unlockWrite();
    }
  }

  /**
   * Removes {@code name[:tag]}; blobs and unpacked layers no other ref uses are deleted, except
   * layers pinned by an open {@link PreparedImage} or a persistent {@link #pin}.
   *
   * @return false when no such image exists
   */
  public boolean remove(String nameTag) throws IOException {
    ImageReference r = ImageReference.parse(nameTag);
    // pending intents could otherwise restore the ref after a crash, pointing at collected blobs
    durability.awaitDurable();
    lock.lockWrite();
    try {
      if (!refs.delete(r)) {
        return false;
      }
      gc.collect();
      return true;
    } finally {
      lock.unlockWrite();
    }
  }

  /** Layers currently pinned in memory (diagnostics). */
  public Set<Digest> leasedLayers() {
    return Collections.unmodifiableSet(new HashSet<>(layers.leased()));
  }
}
