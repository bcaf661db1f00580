package dev.berth.image;

import dev.berth.image.MediaTypes.Compression;
import dev.berth.image.internal.CountingDigestInputStream;
import dev.berth.image.internal.DeferredSync;
import dev.berth.image.internal.DeferredSync.Action;
import dev.berth.image.internal.DirectFileOutputStream;
import dev.berth.image.internal.Files2;
import dev.berth.image.internal.ImageSource;
import dev.berth.image.internal.ImageSource.SourceFile;
import dev.berth.image.internal.LayerUnpacker;
import dev.berth.image.internal.StoreLock;
import dev.berth.image.internal.TeeInputStream;
import dev.berth.image.internal.linux.LinuxFs;
import dev.berth.image.internal.json.Dtos.DockerArchiveEntryJson;
import dev.berth.image.internal.json.Json;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.URLDecoder;
import java.net.URLEncoder;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A content-addressed image store under one root directory:
 *
 * <pre>
 * blobs/sha256/&lt;hex&gt;          verified blobs (manifests, configs, compressed layers)
 * layers/sha256/&lt;diffid-hex&gt;/  unpacked, overlay-ready layers (visible only once complete and verified)
 * layers/.tmp-&lt;random&gt;/        unpack staging (removed on failure and on open)
 * l/&lt;26-char id&gt;              short symlinks to layer dirs, for lowerdir strings
 * refs/&lt;url-encoded name:tag&gt;  manifest digest, written atomically
 * pins/&lt;holder&gt;               layers pinned by a holder (e.g. a created container)
 * pending/&lt;random&gt;.intent     commits not yet known to be on disk (see DeferredSync)
 * tmp/                        import staging
 * store.lock                  shared/exclusive lock across threads and processes (StoreLock)
 * </pre>
 *
 * <p>Only the owner can enter the areas (0700): unpacked layers hold setuid files and device
 * nodes an image shipped.
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
  private static final Pattern HOLDER = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.-]{0,127}");

  private final Path root;
  private final Path blobs;
  private final Path layers;
  private final Path links;
  private final Path refs;
  private final Path pins;
  private final Path tmp;
  private final Path pending;
  private final DeferredSync durability;
  private final UnpackLimits limits;
  private final ExecutorService workers;
  private final StoreLock lock;
  private final ConcurrentHashMap<Digest, CompletableFuture<Path>> unpacking;
  private final ConcurrentHashMap<Digest, AtomicInteger> leases;
  private final java.util.concurrent.atomic.AtomicBoolean closed = new java.util.concurrent.atomic.AtomicBoolean();
  /** The unpacks this store runs (a subset of {@link #unpacking}), with their DiffIDs. */
  private final ConcurrentHashMap<CompletableFuture<Path>, Digest> ownUnpacks = new ConcurrentHashMap<>();
  private final AtomicLong layersUnpacked = new AtomicLong();
  private final AtomicLong bytesUnpacked = new AtomicLong();

  /**
   * Test seam: runs on the thread that is about to remove the unpack of a DiffID from {@link
   * #unpacking}, given the unpack's future.
   */
  volatile java.util.function.BiConsumer<Digest, Future<Path>> beforeDeregistering = (diffId, unpack) -> {};

  /** Counters, mostly for tests and benchmarks. */
  public record Stats(long layersUnpacked, long bytesUnpacked) {}

  private ImageStore(Path root, UnpackLimits limits, int threads) throws IOException {
    this.root = root.toAbsolutePath().normalize();
    this.blobs = this.root.resolve("blobs");
    this.layers = this.root.resolve("layers");
    this.links = this.root.resolve("l");
    this.refs = this.root.resolve("refs");
    this.pins = this.root.resolve("pins");
    this.tmp = this.root.resolve("tmp");
    this.pending = this.root.resolve("pending");
    this.limits = limits;
    // Unpacked layers hold setuid files and device nodes an image shipped: no other user may reach
    // them. The root is made 0700 when created here; every area below it is made (or tightened
    // to) 0700 on each open, so the protection does not depend on the mode of an existing root.
    Files2.createPrivateIfMissing(this.root);
    for (Path p : List.of(blobs, blobs.resolve("sha256"), layers, layers.resolve("sha256"), links, refs, pins, tmp, pending)) {
      Files2.privateDirectory(p);
    }
    this.lock = StoreLock.acquire(this.root.resolve("store.lock"));
    this.unpacking = lock.unpacking;
    this.leases = lock.leases;
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
        LinuxFs.isRoot();
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
      try (Stream<Path> s = Files.list(layers)) {
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
    });
    return new DeferredSync(root, pending, boot);
  }

  /** Opens (creating if needed) a store with default limits. */
  public static ImageStore open(Path root) throws IOException {
    return open(root, UnpackLimits.DEFAULTS);
  }

  public static ImageStore open(Path root, UnpackLimits limits) throws IOException {
    return new ImageStore(root, limits, Math.max(2, Math.min(8, Runtime.getRuntime().availableProcessors())));
  }

  public Path root() {
    return root;
  }

  public UnpackLimits limits() {
    return limits;
  }

  public Stats stats() {
    return new Stats(layersUnpacked.get(), bytesUnpacked.get());
  }

  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    workers.shutdownNow();
    for (Map.Entry<CompletableFuture<Path>, Digest> u : List.copyOf(ownUnpacks.entrySet())) {
      settle(u.getValue(), u.getKey(), null,
          new ImageException("image store " + root + " was closed during the unpack of layer " + u.getValue()));
    }
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
    try (DeferredSync.Busy busy = durability.busy()) {
      return importLocked(source, wanted, listener);
    } catch (IOException | RuntimeException e) {
      // a failed import leaves nothing behind: what it stored or unpacked has no ref, so it is garbage
      try {
        lock.lockWrite();
        try {
          collect();
        } finally {
          lock.unlockWrite();
        }
      } catch (IOException | RuntimeException also) {
        e.addSuppressed(also);
      }
      throw e;
    }
  }

  private Image importLocked(Path source, Optional<ImageReference> wanted, ImportProgress listener) throws IOException {
    lock.lockRead();
    try (ImageSource src = ImageSource.open(source, tmp, limits.maxTotalBytes())) {
      if (src.isOciLayout()) {
        return importOci(src, source, wanted, listener);
      }
      if (src.file("manifest.json").isPresent()) {
        return importDocker(src, wanted, listener);
      }
      throw new ImageException(
          "import source " + source + " is neither an OCI image layout (oci-layout, index.json) nor a docker-archive (manifest.json)");
    } finally {
      lock.unlockRead();
    }
  }

  private byte[] readVerified(ImageSource src, Descriptor d, String what) throws IOException {
    SourceFile f = src.blob(d.digest()).orElseThrow(
        () -> new ImageException(src.description + ": " + what + " blob " + d.digest() + " is missing"));
    if (d.size() > limits.maxJsonBytes()) {
      throw new LimitExceededException(what + " blob " + d.digest() + " is " + d.size() + " bytes, over " + limits.maxJsonBytes());
    }
    if (f.size() > limits.maxJsonBytes()) {
      throw new LimitExceededException(what + " blob " + d.digest() + " is " + f.size() + " bytes, over " + limits.maxJsonBytes());
    }
    byte[] b = Files.readAllBytes(f.path());
    Digest actual = d.digest().sameAlgorithm(d.digest().newMessageDigest().digest(b));
    if (!actual.equals(d.digest()) || b.length != d.size()) {
      throw new BlobVerificationException(
          what + " blob " + d.digest() + " failed verification: expected size " + d.size()
              + ", got digest " + actual + " size " + b.length);
    }
    return b;
  }

  private Image importOci(ImageSource src, Path source, Optional<ImageReference> wanted, ImportProgress listener)
      throws IOException {
    SourceFile layoutFile = src.file("oci-layout").orElseThrow(
        () -> new ImageException(src.description + " has no oci-layout file"));
    if (layoutFile.size() > limits.maxJsonBytes()) {
      throw new LimitExceededException(src.description + ": oci-layout is over " + limits.maxJsonBytes() + " bytes");
    }
    Json.readOciLayout(Files.readAllBytes(layoutFile.path()), src.description + " oci-layout");
    SourceFile indexFile = src.file("index.json").orElseThrow(
        () -> new ImageException(src.description + " has no index.json"));
    if (indexFile.size() > limits.maxJsonBytes()) {
      throw new LimitExceededException(src.description + ": index.json is over " + limits.maxJsonBytes() + " bytes");
    }
    ImageIndex index = Json.readIndex(Files.readAllBytes(indexFile.path()), src.description + " index.json");
    List<Descriptor> cands = new ArrayList<>();
    for (Descriptor d : index.manifests()) {
      if (MediaTypes.isManifest(d.mediaType()) || MediaTypes.isIndex(d.mediaType())) {
        cands.add(d);
      } else {
        LOG.debug("{}: skipping index entry {} of media type {}", src.description, d.digest(), d.mediaType());
      }
    }
    if (wanted.isPresent()) {
      ImageReference w = wanted.get();
      List<Descriptor> named = cands.stream()
          .filter(d -> d.refName().filter(r -> r.equals(w.tag()) || r.equals(w.toString())).isPresent())
          .toList();
      if (!named.isEmpty()) {
        cands = named;
      }
    }
    Platform host = Platform.host();
    List<Descriptor> runnable = cands.stream().filter(d -> d.platform().map(host::runs).orElse(true)).toList();
    if (runnable.isEmpty()) {
      throw new ImageException(src.description + ": no image for " + host + " in index.json");
    }
    Set<String> names = new HashSet<>();
    for (Descriptor d : runnable) {
      names.add(d.refName().orElse(""));
    }
    if (names.size() > 1) {
      throw new ImageException(
          src.description + " holds several images " + names + "; pass a name whose tag selects one");
    }
    Descriptor chosen = runnable.get(0);
    String refName = chosen.refName().orElse(null);
    ImageReference ref;
    if (wanted.isPresent()) {
      ref = wanted.get();
    } else if (refName == null) {
      throw new ImageException(src.description + ": the image has no " + Descriptor.REF_NAME + " annotation; pass a name");
    } else if (refName.contains("/") || refName.contains(":")) {
      ref = ImageReference.parse(refName);
    } else {
      String base = source.getFileName().toString().toLowerCase(Locale.ROOT)
          .replaceAll("\\.(tar|tar\\.gz|tgz)$", "")
          .replaceAll("[^a-z0-9._-]", "-")
          .replaceAll("^[^a-z0-9]+|[^a-z0-9]+$", "");
      ref = ImageReference.parse((base.isEmpty() ? "image" : base) + ":" + refName);
    }
    Map<Digest, byte[]> jsonBlobs = new LinkedHashMap<>();
    Descriptor manifestDesc = chosen;
    int depth = 0;
    while (MediaTypes.isIndex(manifestDesc.mediaType())) {
      if (++depth > 4) {
        throw new ImageException(src.description + ": image indexes nested too deeply");
      }
      byte[] ib = readVerified(src, manifestDesc, "index");
      jsonBlobs.put(manifestDesc.digest(), ib);
      ImageIndex nested = Json.readIndex(ib, "index " + manifestDesc.digest());
      manifestDesc = selectPlatform(nested, manifestDesc.digest());
    }
    byte[] mb = readVerified(src, manifestDesc, "manifest");
    jsonBlobs.put(manifestDesc.digest(), mb);
    ImageManifest manifest = Json.readManifest(mb, "manifest " + manifestDesc.digest());
    return finishImport(src, ref, manifestDesc.digest(), manifest, jsonBlobs, listener);
  }

  private static Descriptor selectPlatform(ImageIndex index, Digest indexDigest) throws ImageException {
    Platform host = Platform.host();
    List<String> seen = new ArrayList<>();
    Descriptor noPlatform = null;
    for (Descriptor d : index.manifests()) {
      if (!MediaTypes.isManifest(d.mediaType()) && !MediaTypes.isIndex(d.mediaType())) {
        continue;
      }
      if (d.platform().isEmpty()) {
        noPlatform = noPlatform == null ? d : noPlatform;
        continue;
      }
      Platform p = d.platform().get();
      seen.add(p.toString());
      if (host.runs(p)) {
        return d;
      }
    }
    if (noPlatform != null && seen.isEmpty()) {
      return noPlatform;
    }
    throw new ImageException("index " + indexDigest + " has no manifest for " + host + " (has " + seen + ")");
  }

  private Image finishImport(
      ImageSource src, ImageReference ref, Digest manifestDigest, ImageManifest manifest,
      Map<Digest, byte[]> jsonBlobs, ImportProgress listener) throws IOException {
    if (manifest.layers().size() > limits.maxLayers()) {
      throw new LimitExceededException(
          "manifest " + manifestDigest + " has " + manifest.layers().size() + " layers, over the limit of " + limits.maxLayers());
    }
    byte[] cb = jsonBlobs.containsKey(manifest.config().digest())
        ? jsonBlobs.get(manifest.config().digest())
        : readVerified(src, manifest.config(), "config");
    jsonBlobs.put(manifest.config().digest(), cb);
    ImageConfig config = Json.readConfig(cb, "config " + manifest.config().digest());
    checkConfig(manifestDigest, manifest, config);
    // layers, in parallel: each distinct blob read once, stored, verified and unpacked
    Set<List<Digest>> distinct = new HashSet<>();
    int count = manifest.layers().size();
    int total = (int) manifest.layers().stream().map(Descriptor::digest).distinct().count() + jsonBlobs.size();
    List<Future<?>> work = new ArrayList<>();
    try {
      for (int i = 0; i < count; i++) {
        Descriptor l = manifest.layers().get(i);
        Digest diffId = config.diffIds().get(i);
        if (distinct.add(List.of(l.digest(), diffId))) {
          work.addAll(importLayer(src, l, diffId, i, count, total, listener));
        }
      }
    } catch (IOException | RuntimeException e) {
      try {
        await(work, "import of " + ref); // let started layers finish before the import's cleanup runs
      } catch (IOException | RuntimeException also) {
        e.addSuppressed(also);
      }
      throw e;
    }
    await(work, "import of " + ref);
    for (Map.Entry<Digest, byte[]> j : jsonBlobs.entrySet()) {
      putBytes(j.getKey(), j.getValue());
    }
    writeRef(ref, manifestDigest);
    LOG.debug("imported {} as {}", ref, manifestDigest);
    return new Image(ref.toString(), manifestDigest, config, config.diffIds());
  }

  private void checkConfig(Digest manifestDigest, ImageManifest manifest, ImageConfig config) throws ImageException {
    if (config.diffIds().size() != manifest.layers().size()) {
      throw new ImageException(
          "manifest " + manifestDigest + " has " + manifest.layers().size() + " layers but config "
              + manifest.config().digest() + " lists " + config.diffIds().size() + " diff_ids");
    }
    if (!config.os().equals("linux")) {
      throw new ImageException("config " + manifest.config().digest() + " is for os `" + config.os() + "`, not linux");
    }
    if (!Platform.host().runs(config.platform())) {
      LOG.warn("image {} is for {}, this host is {}", manifestDigest, config.platform(), Platform.host());
    }
  }

  /**
   * Waits until every future of {@code fs} has settled, then throws the first failure (the others
   * suppressed on it). Never earlier: the futures stand for workers that commit into the store,
   * which is safe only while their caller holds the store's read lock and waits, before a failed
   * import collects what it left. Returning at an interrupt or at a failure other than an
   * IOException let a worker commit after that cleanup (a layer and a blob no ref holds). Nothing
   * is cancelled either: that stops no worker, and an unpack may be shared with other callers. An
   * interrupt is kept for the end: {@code InterruptedIOException} naming {@code what}, the flag set.
   */
  private static void await(List<Future<?>> fs, String what) throws IOException {
    boolean interrupted = false;
    Throwable first = null;
    for (Future<?> f : fs) {
      while (true) {
        try {
          f.get();
          break;
        } catch (InterruptedException e) {
          interrupted = true; // get() cleared the flag, so the next one waits again
        } catch (ExecutionException | java.util.concurrent.CancellationException e) {
          Throwable t = unwrap(e);
          if (first == null) {
            first = t;
          } else if (t != first) {
            first.addSuppressed(t);
          }
          break;
        }
      }
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
      java.io.InterruptedIOException e = new java.io.InterruptedIOException(
          what + ": interrupted; waited for the layer work it had started to end first");
      if (first != null) {
        e.addSuppressed(first);
      }
      throw e;
    }
    if (first instanceof IOException io) {
      throw io;
    }
    if (first instanceof RuntimeException re) {
      throw re;
    }
    if (first instanceof Error er) {
      throw er;
    }
    if (first != null) {
      throw new IOException(what + ": " + first, first);
    }
  }

  private static Throwable unwrap(Throwable t) {
    while ((t instanceof ExecutionException || t instanceof java.util.concurrent.CompletionException
        || t instanceof UncheckedIOException) && t.getCause() != null) {
      t = t.getCause();
    }
    return t;
  }

  private Image importDocker(ImageSource src, Optional<ImageReference> wanted, ImportProgress listener)
      throws IOException {
    SourceFile mf = src.file("manifest.json").orElseThrow();
    if (mf.size() > limits.maxJsonBytes()) {
      throw new LimitExceededException(src.description + ": manifest.json is over " + limits.maxJsonBytes() + " bytes");
    }
    List<DockerArchiveEntryJson> entries =
        Json.readDockerArchiveManifest(Files.readAllBytes(mf.path()), src.description + " manifest.json");
    DockerArchiveEntryJson chosen = null;
    if (wanted.isPresent()) {
      for (DockerArchiveEntryJson e : entries) {
        if (e.repoTags != null && e.repoTags.stream().anyMatch(t -> t.equals(wanted.get().toString()))) {
          chosen = e;
        }
      }
    }
    if (chosen == null) {
      if (entries.size() > 1) {
        throw new ImageException(src.description + " holds " + entries.size() + " images; pass a name from its RepoTags");
      }
      chosen = entries.get(0);
    }
    ImageReference ref;
    if (wanted.isPresent()) {
      ref = wanted.get();
    } else if (chosen.repoTags != null && !chosen.repoTags.isEmpty()) {
      ref = ImageReference.parse(chosen.repoTags.get(0));
    } else {
      throw new ImageException(src.description + ": the image has no RepoTags; pass a name");
    }
    if (chosen.config == null) {
      throw new ImageException(src.description + ": manifest.json entry has no Config");
    }
    String configPath = chosen.config;
    SourceFile cf = src.file(configPath).orElseThrow(
        () -> new ImageException(src.description + ": config `" + configPath + "` is missing"));
    if (cf.size() > limits.maxJsonBytes()) {
      throw new LimitExceededException(src.description + ": config is over " + limits.maxJsonBytes() + " bytes");
    }
    byte[] cb = Files.readAllBytes(cf.path());
    Digest configDigest = Digest.sha256Of(cb);
    List<Descriptor> layerDescs = new ArrayList<>();
    for (String l : chosen.layers == null ? List.<String>of() : chosen.layers) {
      SourceFile lf = src.file(l).orElseThrow(
          () -> new ImageException(src.description + ": layer `" + l + "` is missing"));
      Digest d = lf.sha256().orElseThrow();
      layerDescs.add(new Descriptor(MediaTypes.ociLayer(sniff(lf.path())), d, lf.size()));
    }
    ImageManifest manifest = new ImageManifest(
        2, MediaTypes.OCI_MANIFEST, new Descriptor(MediaTypes.OCI_CONFIG, configDigest, cb.length), layerDescs, Map.of());
    byte[] mb = Json.writeManifest(manifest);
    Digest md = Digest.sha256Of(mb);
    Map<Digest, byte[]> json = new LinkedHashMap<>();
    json.put(md, mb);
    json.put(configDigest, cb);
    return finishImport(new DockerBlobs(src, chosen.layers), ref, md, manifest, json, listener);
  }

  /** Serves docker-archive layers (named by path) by their computed digest. */
  private static final class DockerBlobs extends ImageSource {
    private final ImageSource inner;
    private final List<String> layerPaths;

    DockerBlobs(ImageSource inner, List<String> layerPaths) {
      super(inner.description);
      this.inner = inner;
      this.layerPaths = layerPaths == null ? List.of() : layerPaths;
    }

    @Override
    public Optional<SourceFile> file(String name) throws IOException {
      return inner.file(name);
    }

    @Override
    public Optional<SourceFile> blob(Digest d) throws IOException {
      for (String p : layerPaths) {
        Optional<SourceFile> f = inner.file(p);
        if (f.isPresent() && f.get().sha256().map(d::equals).orElse(false)) {
          return f;
        }
      }
      return inner.blob(d);
    }

    @Override
    public boolean isOciLayout() {
      return false;
    }
  }

  private static Compression sniff(Path p) throws IOException {
    byte[] h = new byte[4];
    int n;
    try (InputStream in = Files.newInputStream(p)) {
      n = in.readNBytes(h, 0, 4);
    }
    if (n >= 2 && (h[0] & 0xff) == 0x1f && (h[1] & 0xff) == 0x8b) {
      return Compression.GZIP;
    }
    if (n == 4 && (h[0] & 0xff) == 0x28 && (h[1] & 0xff) == 0xb5 && (h[2] & 0xff) == 0x2f && (h[3] & 0xff) == 0xfd) {
      return Compression.ZSTD;
    }
    return Compression.NONE;
  }

  // =====================================================================================
  // blobs

  Path blobPath(Digest d) {
    return blobs.resolve(d.algorithm()).resolve(d.hex());
  }

  /** Makes the private {@code blobs/<alg>/} or {@code layers/<alg>/} of {@code object}; only sha256 exists from the start. */
  private static void algorithmDir(Path object) throws IOException {
    Path dir = object.getParent();
    if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
      Files2.privateDirectory(dir);
    }
  }

  private boolean hasBlob(Descriptor d) throws IOException {
    Path p = blobPath(d.digest());
    return Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS) && Files.size(p) == d.size();
  }

  private void putBytes(Digest d, byte[] b) throws IOException {
    Path p = blobPath(d);
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
  private void storeBlob(ImageSource src, Descriptor d, int total, ImportProgress listener) throws IOException {
    if (hasBlob(d)) {
      listener.blobDone(d);
      return;
    }
    SourceFile f = src.blob(d.digest()).orElseThrow(
        () -> new ImageException(src.description + ": layer blob " + d.digest() + " is missing"));
    listener.blobStarted(d, total);
    if (f.sha256().isPresent() && d.digest().algorithm().equals("sha256")) {
      // staged from an archive into this store's tmp/ and hashed in full while staging: verify and rename
      Digest actual = f.sha256().get();
      if (!actual.equals(d.digest()) || f.size() != d.size()) {
        throw new BlobVerificationException(
            "blob " + d.digest() + " (" + d.mediaType() + ") failed verification: expected size " + d.size()
                + ", got digest " + actual + " and size " + f.size());
      }
      commitBlob(f.path(), d.digest());
      listener.blobProgress(d, f.size());
    } else {
      try (InputStream in = Files.newInputStream(f.path())) {
        putStream(in, d, listener);
      }
    }
    listener.blobDone(d);
  }

  /** Verified streaming write of one blob (package-private for tests). */
  void putStream(InputStream in, Descriptor d, ImportProgress listener) throws IOException {
    algorithmDir(blobPath(d.digest()));
    Path t = tmp.resolve("blob-" + Files2.randomId());
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
        }
        out.flush();
      }
      verifyBlob(d, d.digest().sameAlgorithm(md.digest()), n);
      commitBlob(t, d.digest());
    } finally {
      Files.deleteIfExists(t);
    }
  }

  /** Renames a verified blob into place, undoable until it is on disk. */
  private void commitBlob(Path verified, Digest d) throws IOException {
    Path blob = blobPath(d);
    durability.commit(List.of(Action.remove(root, blob)), () -> Files2.move(verified, blob));
  }

  private static void verifyBlob(Descriptor d, Digest actual, long size) throws BlobVerificationException {
    if (!actual.equals(d.digest()) || size != d.size()) {
      throw new BlobVerificationException(
          "blob " + d.digest() + " (" + d.mediaType() + ") failed verification: expected size " + d.size()
              + ", got digest " + actual + " and size " + size);
    }
  }

  // =====================================================================================
  // refs and images

  private Path refPath(ImageReference r) {
    return refs.resolve(URLEncoder.encode(r.toString(), StandardCharsets.UTF_8));
  }

  /** The ref is undone with the image's layers should they not survive a crash (DeferredSync). */
  private void writeRef(ImageReference r, Digest manifest) throws IOException {
    Path p = refPath(r);
    Optional<String> previous = Optional.empty();
    if (Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)) {
      String old = Files.readString(p).trim();
      if (!old.isEmpty() && old.indexOf('\n') < 0) {
        previous = Optional.of(old);
      }
    }
    durability.commit(
        List.of(previous.isPresent() ? Action.restore(root, p, previous.get()) : Action.remove(root, p)),
        () -> Files2.writeAtomically(p, (manifest + "\n").getBytes(StandardCharsets.UTF_8)));
  }

  /** The image a {@code name[:tag]} points at, if any. */
  public Optional<Image> find(String nameTag) throws IOException {
    lock.lockRead();
    try {
      return findUnlocked(nameTag);
    } finally {
      lock.unlockRead();
    }
  }

  private Optional<Image> findUnlocked(String nameTag) throws IOException {
    ImageReference r = ImageReference.parse(nameTag);
    Path p = refPath(r);
    if (!Files.isRegularFile(p)) {
      return Optional.empty();
    }
    return Optional.of(load(r, p));
  }

  private Image load(ImageReference r, Path refFile) throws IOException {
    String s = Files.readString(refFile).trim();
    Digest md;
    try {
      md = Digest.parse(s);
    } catch (IllegalArgumentException e) {
      throw new ImageException("ref " + r + ": " + e.getMessage(), e);
    }
    ImageManifest m = manifest(md);
    ImageConfig c = Json.readConfig(readBlob(m.config().digest(), "config"), "config " + m.config().digest());
    return new Image(r.toString(), md, c, c.diffIds());
  }

  private ImageManifest manifest(Digest md) throws IOException {
    return Json.readManifest(readBlob(md, "manifest"), "manifest " + md);
  }

  private byte[] readBlob(Digest d, String what) throws IOException {
    Path p = blobPath(d);
    try {
      if (Files.size(p) > limits.maxJsonBytes()) {
        throw new LimitExceededException(what + " blob " + d + " is over " + limits.maxJsonBytes() + " bytes");
      }
      return Files.readAllBytes(p);
    } catch (NoSuchFileException e) {
      throw new ImageException(what + " blob " + d + " is missing from the store", e);
    }
  }

  /** All images (one per name:tag), sorted by name. */
  public List<Image> images() throws IOException {
    lock.lockRead();
    try {
      return imagesUnlocked();
    } finally {
      lock.unlockRead();
    }
  }

  private List<Image> imagesUnlocked() throws IOException {
    List<Image> out = new ArrayList<>();
    try (Stream<Path> s = Files.list(refs)) {
      for (Path p : s.sorted().toList()) {
        String f = p.getFileName().toString();
        if (f.startsWith(".tmp-")) {
          continue;
        }
        out.add(load(ImageReference.parse(URLDecoder.decode(f, StandardCharsets.UTF_8)), p));
      }
    }
    return out;
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
      Image img = findUnlocked(nameTag).orElseThrow(() -> new ImageException("no such image: " + nameTag));
      ImageManifest m = manifest(img.manifestDigest());
      if (m.layers().size() > limits.maxLayers()) {
        throw new LimitExceededException("image " + nameTag + " has " + m.layers().size()
            + " layers, over the limit of " + limits.maxLayers());
      }
      List<CompletableFuture<Path>> fs = new ArrayList<>();
      for (int i = 0; i < m.layers().size(); i++) {
        fs.add(ensureUnpacked(m.layers().get(i), img.diffIds().get(i), i, m.layers().size(), listener));
      }
      List<Future<?>> all = new ArrayList<>(fs);
      await(all, "prepare of " + nameTag);
      List<Path> lower = new ArrayList<>();
      List<String> shortLower = new ArrayList<>();
      for (int i = img.diffIds().size() - 1; i >= 0; i--) {
        Digest d = img.diffIds().get(i);
        lower.add(layerDir(d));
        shortLower.add(shortId(d));
      }
      for (Digest d : img.diffIds()) {
        leases.computeIfAbsent(d, k -> new AtomicInteger()).incrementAndGet();
      }
      return new PreparedImage(this, img, lower, shortLower, links);
    } finally {
      lock.unlockRead();
    }
  }

  void release(List<Digest> diffIds) {
    for (Digest d : diffIds) {
      leases.computeIfPresent(d, (k, v) -> v.decrementAndGet() <= 0 ? null : v);
    }
  }

  /** The unpacked directory of a layer (may not exist yet). */
  public Path layerDir(Digest diffId) {
    return layers.resolve(diffId.algorithm()).resolve(diffId.hex());
  }

  /** The 26-character short link name of a layer, as containers/storage uses. */
  public static String shortId(Digest diffId) {
    byte[] h = Digest.newSha256().digest(diffId.toString().getBytes(StandardCharsets.UTF_8));
    return base32(java.util.Arrays.copyOf(h, 16));
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

  private boolean layerReady(Digest diffId) {
    return Files.isDirectory(layerDir(diffId), LinkOption.NOFOLLOW_LINKS)
        && Files.exists(links.resolve(shortId(diffId)), LinkOption.NOFOLLOW_LINKS);
  }

  private CompletableFuture<Path> ensureUnpacked(
      Descriptor blob, Digest diffId, int index, int count, ImportProgress listener) {
    if (layerReady(diffId)) {
      return CompletableFuture.completedFuture(layerDir(diffId));
    }
    CompletableFuture<Path> mine = new CompletableFuture<>();
    CompletableFuture<Path> existing = unpacking.putIfAbsent(diffId, mine);
    if (existing != null) {
      return existing;
    }
    if (layerReady(diffId)) {
      // committed by an unpack that finished between the first check and the registration; a
      // caller may have joined mine meanwhile, so it is settled, not only dropped
      settle(diffId, mine, layerDir(diffId), null);
      return mine;
    }
    return runOwned(diffId, mine, () -> unpackLayer(blob, diffId, index, count, listener));
  }

  /** Runs the unpack of {@code diffId} that {@code mine} (registered in {@link #unpacking}) stands for. */
  private CompletableFuture<Path> runOwned(
      Digest diffId, CompletableFuture<Path> mine, java.util.concurrent.Callable<Path> unpack) {
    ownUnpacks.put(mine, diffId);
    try {
      workers.execute(() -> {
        Path dir;
        try {
          dir = unpack.call();
        } catch (Throwable t) {
          settle(diffId, mine, null, t);
          return;
        }
        settle(diffId, mine, dir, null);
      });
    } catch (java.util.concurrent.RejectedExecutionException e) {
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
  private void settle(Digest diffId, CompletableFuture<Path> mine, Path dir, Throwable failure) {
    beforeDeregistering.accept(diffId, mine);
    unpacking.remove(diffId, mine);
    ownUnpacks.remove(mine);
    if (failure == null) {
      mine.complete(dir);
    } else {
      mine.completeExceptionally(failure);
    }
  }

  /**
   * The work that makes one layer of an import present: nothing, storing its blob, unpacking it
   * from the stored blob, or (the usual case) one read of the source blob that does both.
   */
  private List<Future<?>> importLayer(
      ImageSource src, Descriptor l, Digest diffId, int index, int count, int total, ImportProgress listener)
      throws IOException {
    boolean haveBlob = hasBlob(l);
    if (layerReady(diffId)) {
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
    SourceFile f = src.blob(l.digest()).orElseThrow(
        () -> new ImageException(src.description + ": layer blob " + l.digest() + " is missing"));
    compression(l); // an unknown media type is refused before any work starts
    CompletableFuture<Path> mine = new CompletableFuture<>();
    CompletableFuture<Path> existing = unpacking.putIfAbsent(diffId, mine);
    if (existing != null || layerReady(diffId)) {
      // this JVM unpacks (or just unpacked) the same DiffID, maybe from another blob: only store ours
      if (existing == null) {
        settle(diffId, mine, layerDir(diffId), null); // a caller may have joined it meanwhile
      }
      List<Future<?>> work = new ArrayList<>();
      work.add(storeBlobLater(src, l, total, listener));
      if (existing != null) {
        work.add(existing);
      }
      return work;
    }
    return List.of(runOwned(diffId, mine, () -> {
      if (f.sha256().isPresent()) {
        // staged from an archive and hashed already: moving it in costs nothing
        storeBlob(src, l, total, listener);
        return unpackLayer(l, diffId, index, count, listener);
      }
      return streamLayer(f, l, diffId, total, listener);
    }));
  }

  private Future<?> storeBlobLater(ImageSource src, Descriptor l, int total, ImportProgress listener) {
    return workers.submit(() -> {
      storeBlob(src, l, total, listener);
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
  private Path streamLayer(SourceFile f, Descriptor l, Digest diffId, int total, ImportProgress listener)
      throws IOException {
    Compression c = compression(l);
    listener.blobStarted(l, total);
    Path blobTmp = tmp.resolve("blob-" + Files2.randomId());
    Path staging = layers.resolve(".tmp-" + Files2.randomId());
    Files.createDirectory(staging);
    try {
      LayerUnpacker.Result r;
      try (DirectFileOutputStream out = DirectFileOutputStream.create(blobTmp);
          InputStream in = Files.newInputStream(f.path())) {
        CountingDigestInputStream raw = new CountingDigestInputStream(
            new TeeInputStream(in, out, l.size(), n -> listener.blobProgress(l, n)),
            l.digest().newMessageDigest(), limits.maxTotalBytes(), "blob " + l.digest());
        try {
          r = LayerUnpacker.unpack(raw, c, diffId, staging, limits, l.digest().toString());
        } catch (IOException | RuntimeException e) {
          try {
            raw.drain();
            verifyBlob(l, l.digest().sameAlgorithm(raw.digest()), raw.count());
          } catch (BlobVerificationException notTheBlob) {
            notTheBlob.addSuppressed(e);
            throw notTheBlob;
          } catch (IOException | RuntimeException secondary) {
            e.addSuppressed(secondary);
          }
          throw e;
        }
        raw.drain(); // bytes after the end of the compressed stream are part of the blob too
        verifyBlob(l, l.digest().sameAlgorithm(raw.digest()), raw.count());
      }
      Path blob = blobPath(l.digest());
      algorithmDir(blob);
      LayerUnpacker.Result unpacked = r;
      durability.commit(
          List.of(Action.remove(root, blob), Action.remove(root, layerDir(diffId)),
              Action.remove(root, links.resolve(shortId(diffId)))),
          () -> {
            Files2.move(blobTmp, blob);
            commitLayer(staging, diffId, unpacked, listener);
          });
      listener.blobDone(l);
      return layerDir(diffId);
    } catch (Throwable t) {
      Files2.deleteTreeQuietly(staging, t);
      throw t;
    } finally {
      Files.deleteIfExists(blobTmp);
    }
  }

  private Path unpackLayer(Descriptor blob, Digest diffId, int index, int count, ImportProgress listener)
      throws IOException {
    Path dir = layerDir(diffId);
    if (Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
      ensureLink(diffId);
      return dir;
    }
    Compression c = compression(blob);
    Path p = blobPath(blob.digest());
    if (!Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)) {
      throw new ImageException("layer blob " + blob.digest() + " (layer " + (index + 1) + " of " + count + ") is missing from the store");
    }
    Path staging = layers.resolve(".tmp-" + Files2.randomId());
    Files.createDirectory(staging);
    try (InputStream in = Files.newInputStream(p)) {
      LayerUnpacker.Result r = LayerUnpacker.unpack(in, c, diffId, staging, limits, blob.digest().toString());
      durability.commit(
          List.of(Action.remove(root, dir), Action.remove(root, links.resolve(shortId(diffId)))),
          () -> commitLayer(staging, diffId, r, listener));
    } catch (Throwable t) {
      Files2.deleteTreeQuietly(staging, t);
      throw t;
    }
    return dir;
  }

  /** Renames a verified staging directory into place (another process may have won) and links it. */
  private void commitLayer(Path staging, Digest diffId, LayerUnpacker.Result r, ImportProgress listener)
      throws IOException {
    Path dir = layerDir(diffId);
    algorithmDir(dir);
    try {
      Files.move(staging, dir, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
      layersUnpacked.incrementAndGet();
      bytesUnpacked.addAndGet(r.bytesWritten());
      listener.layerUnpacked(diffId, r.bytesWritten());
    } catch (java.nio.file.FileSystemException e) {
      // rename(2) onto a non-empty directory fails with ENOTEMPTY, which Java reports only as a
      // generic FileSystemException: another process (or thread) committed this layer first
      if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
        throw e;
      }
      Files2.deleteTree(staging); // the winner's copy is equally verified
    }
    makeLink(diffId);
  }

  /** A layer directory without its short link (a crash between the two): link it, durably undoable. */
  private void ensureLink(Digest diffId) throws IOException {
    if (Files.exists(links.resolve(shortId(diffId)), LinkOption.NOFOLLOW_LINKS)) {
      return;
    }
    durability.commit(List.of(Action.remove(root, links.resolve(shortId(diffId)))), () -> makeLink(diffId));
  }

  private void makeLink(Digest diffId) throws IOException {
    Path link = links.resolve(shortId(diffId));
    if (!Files.exists(link, LinkOption.NOFOLLOW_LINKS)) {
      Path tmpLink = links.resolve(".tmp-" + Files2.randomId());
      Files.createSymbolicLink(tmpLink, Path.of("..", "layers", diffId.algorithm(), diffId.hex()));
      Files2.move(tmpLink, link);
    }
  }

  // =====================================================================================
  // pins, removal, garbage collection

  /** Persistently pins the layers of {@code image} for {@code holder} (e.g. a container id). */
  public void pin(String holder, PreparedImage image) throws IOException {
    checkHolder(holder);
    StringBuilder sb = new StringBuilder();
    for (Digest d : image.image().diffIds()) {
      sb.append(d).append('\n');
    }
    Files2.writeAtomically(pins.resolve(holder), sb.toString().getBytes(StandardCharsets.UTF_8));
  }

  /** Drops a persistent pin and collects layers nothing references any more. */
  public void unpin(String holder) throws IOException {
    checkHolder(holder);
    lock.lockWrite();
    try {
      Files.deleteIfExists(pins.resolve(holder));
      // a pin of this holder being written when its JVM died (the holder's owner unpins: none is in flight)
      String partial = ".tmp-" + holder + "-";
      try (Stream<Path> s = Files.list(pins)) {
        for (Path p : (Iterable<Path>) s::iterator) {
          String name = p.getFileName().toString();
          if (name.startsWith(partial) && name.substring(partial.length()).matches("[0-9a-f]{16}")) {
            Files.deleteIfExists(p);
          }
        }
      } catch (java.nio.file.NoSuchFileException e) {
        // no pins yet
      }
      collect();
    } finally {
      lock.unlockWrite();
    }
  }

  private static void checkHolder(String holder) {
    if (holder == null || !HOLDER.matcher(holder).matches()) {
      throw new IllegalArgumentException("invalid pin holder `" + holder + "`: use [A-Za-z0-9_.-], at most 128");
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
      if (!Files.deleteIfExists(refPath(r))) {
        return false;
      }
      Files2.fsyncDir(refs);
      collect();
      return true;
    } finally {
      lock.unlockWrite();
    }
  }

  /** Mark and sweep; caller holds the write lock. */
  private void collect() throws IOException {
    Set<Digest> liveBlobs = new HashSet<>();
    Set<Digest> liveLayers = new HashSet<>();
    for (Image img : imagesUnlocked()) {
      liveBlobs.add(img.manifestDigest());
      ImageManifest m = manifest(img.manifestDigest());
      liveBlobs.add(m.config().digest());
      m.layers().forEach(l -> liveBlobs.add(l.digest()));
      liveLayers.addAll(img.diffIds());
    }
    liveLayers.addAll(leases.keySet());
    try (Stream<Path> s = Files.list(pins)) {
      for (Path p : s.toList()) {
        if (p.getFileName().toString().startsWith(".tmp-")) {
          continue;
        }
        for (String line : Files.readAllLines(p)) {
          if (!line.isBlank()) {
            liveLayers.add(Digest.parse(line.trim()));
          }
        }
      }
    }
    for (String alg : List.of("sha256", "sha512")) {
      Path bd = blobs.resolve(alg);
      if (Files.isDirectory(bd)) {
        try (Stream<Path> s = Files.list(bd)) {
          for (Path p : s.toList()) {
            Digest d = tryDigest(alg, p);
            if (d == null || !liveBlobs.contains(d)) {
              Files.deleteIfExists(p);
            }
          }
        }
      }
      Path ld = layers.resolve(alg);
      if (Files.isDirectory(ld)) {
        try (Stream<Path> s = Files.list(ld)) {
          for (Path p : s.toList()) {
            Digest d = tryDigest(alg, p);
            if (d == null || !liveLayers.contains(d)) {
              if (d != null) {
                Files.deleteIfExists(links.resolve(shortId(d)));
              }
              // move aside first so a half-deleted layer is never visible under its name
              Path doomed = layers.resolve(".tmp-rm-" + Files2.randomId());
              Files2.move(p, doomed);
              Files2.deleteTree(doomed);
            }
          }
        }
      }
    }
  }

  private static Digest tryDigest(String alg, Path p) {
    try {
      return Digest.parse(alg + ":" + p.getFileName());
    } catch (IllegalArgumentException e) {
      return null;
    }
  }

  /** Layers currently pinned in memory (diagnostics). */
  public Set<Digest> leasedLayers() {
    return Collections.unmodifiableSet(new HashSet<>(leases.keySet()));
  }
}
