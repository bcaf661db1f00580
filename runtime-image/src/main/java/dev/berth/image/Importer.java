package dev.berth.image;

import dev.berth.image.MediaTypes.Compression;
import dev.berth.image.internal.ImageSource;
import dev.berth.image.internal.ImageSource.SourceFile;
import dev.berth.image.internal.json.Dtos.DockerArchiveEntryJson;
import dev.berth.image.internal.json.Json;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Future;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Brings an image into the store from a source (an OCI layout, an oci-archive or docker-archive, or
 * a registry): chooses the manifest, verifies the JSON blobs, has every layer stored and unpacked
 * in one read of its blob, and writes the ref last. The caller holds the store's read lock.
 */
final class Importer {
  private static final Logger LOG = LoggerFactory.getLogger(Importer.class);

  private final BlobStore blobs;
  private final LayerCache layers;
  private final RefStore refs;
  private final UnpackLimits limits;
  private final Path tmp;

  Importer(BlobStore blobs, LayerCache layers, RefStore refs, UnpackLimits limits, Path tmp) {
    this.blobs = blobs;
    this.layers = layers;
    this.refs = refs;
    this.limits = limits;
    this.tmp = tmp;
  }

  Image importFrom(Path source, Optional<ImageReference> wanted, ImportProgress listener) throws IOException {
    try (ImageSource src = ImageSource.open(source, tmp, limits.maxTotalBytes())) {
      if (src.isOciLayout()) {
        return importOci(src, source, wanted, listener);
      }
      if (src.file("manifest.json").isPresent()) {
        return importDocker(src, wanted, listener);
      }
      throw new ImageException(
          "import source " + source + " is neither an OCI image layout (oci-layout, index.json) nor a docker-archive (manifest.json)");
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
      manifestDesc = selectPlatform(nested, manifestDesc.digest(), host);
    }
    byte[] mb = readVerified(src, manifestDesc, "manifest");
    jsonBlobs.put(manifestDesc.digest(), mb);
    ImageManifest manifest = Json.readManifest(mb, "manifest " + manifestDesc.digest());
    checkLayerCount(manifestDesc.digest(), manifest);
    if (!jsonBlobs.containsKey(manifest.config().digest())) {
      jsonBlobs.put(manifest.config().digest(), readVerified(src, manifest.config(), "config"));
    }
    return store(BlobSource.of(src), ref, manifestDesc.digest(), manifest, jsonBlobs, listener);
  }

  /**
   * The entry of {@code index} for {@code wanted}: the first whose platform it runs, or the only
   * kind of entry, one without a platform.
   */
  static Descriptor selectPlatform(ImageIndex index, Digest indexDigest, Platform wanted) throws ImageException {
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
      if (wanted.runs(p) && (wanted.variant().isEmpty() || wanted.variant().equals(p.variant()))) {
        return d;
      }
    }
    if (noPlatform != null && seen.isEmpty()) {
      return noPlatform;
    }
    throw new ImageException("index " + indexDigest + " has no manifest for " + wanted + " (has " + seen + ")");
  }

  private void checkLayerCount(Digest manifestDigest, ImageManifest manifest) throws LimitExceededException {
    if (manifest.layers().size() > limits.maxLayers()) {
      throw new LimitExceededException(
          "manifest " + manifestDigest + " has " + manifest.layers().size() + " layers, over the limit of " + limits.maxLayers());
    }
  }

  /**
   * Stores an image whose index, manifest and config ({@code jsonBlobs}, verified) were read: every
   * distinct layer is stored, verified and unpacked in parallel from {@code src} (skipped when
   * present), then the JSON blobs and the ref are written. The config must be in {@code jsonBlobs}.
   */
  Image store(
      BlobSource src, ImageReference ref, Digest manifestDigest, ImageManifest manifest,
      Map<Digest, byte[]> jsonBlobs, ImportProgress listener) throws IOException {
    checkLayerCount(manifestDigest, manifest);
    byte[] cb = jsonBlobs.get(manifest.config().digest());
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
          work.addAll(layers.fetch(src, l, diffId, i, count, total, listener));
        }
      }
    } catch (IOException | RuntimeException e) {
      try {
        PendingWork.await(work, "import of " + ref, src::abort); // let started layers finish before the import's cleanup runs
      } catch (IOException | RuntimeException also) {
        e.addSuppressed(also);
      }
      throw e;
    }
    PendingWork.await(work, "import of " + ref, src::abort);
    for (Map.Entry<Digest, byte[]> j : jsonBlobs.entrySet()) {
      blobs.putBytes(j.getKey(), j.getValue());
    }
    refs.write(ref, manifestDigest);
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
    return store(BlobSource.of(new DockerBlobs(src, chosen.layers)), ref, md, manifest, json, listener);
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
}
