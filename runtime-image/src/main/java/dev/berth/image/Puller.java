package dev.berth.image;

import dev.berth.image.BlobSource.SourceBlob;
import dev.berth.image.internal.ImageSource.SourceFile;
import dev.berth.image.internal.json.Json;
import dev.berth.image.registry.PullOptions;
import dev.berth.image.registry.RegistriesConf;
import dev.berth.image.registry.RegistryClient;
import dev.berth.image.registry.RegistryException;
import dev.berth.image.registry.RegistryReference;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Pulls an image from a registry into the store: resolves the reference (mirrors first), negotiates
 * the manifest (an index leads to the wanted platform's manifest), verifies index, manifest and
 * config against their digests, and hands the layers to the same stream-once pipeline an import
 * uses, with the registry as the blob source: each layer that is not present is downloaded once,
 * verified while it streams and unpacked as it arrives; the ref is written last.
 */
final class Puller {
  private static final Logger LOG = LoggerFactory.getLogger(Puller.class);

  private final Importer importer;
  private final UnpackLimits limits;

  Puller(Importer importer, UnpackLimits limits) {
    this.importer = importer;
    this.limits = limits;
  }

  /** The registries.conf {@code options} name (file, then drop-ins), parsed. */
  static RegistriesConf registriesConf(PullOptions options) throws IOException {
    return RegistriesConf.load(options.registriesConf(), Optional.of(options.registriesConfDir()));
  }

  /**
   * Where to pull {@code ref} from, mirrors first: registries.conf's (a blocked registry fails
   * here), with the mirrors of {@code options} replacing the file's for the reference's registry.
   */
  static List<RegistriesConf.Endpoint> endpoints(RegistryReference ref, PullOptions options) throws IOException {
    List<RegistriesConf.Endpoint> fromFile = registriesConf(options).endpoints(ref);
    if (!options.hasMirrors(ref.registry())) {
      return fromFile;
    }
    List<RegistriesConf.Endpoint> out = new ArrayList<>();
    for (String m : options.mirrors(ref.registry())) {
      out.add(new RegistriesConf.Endpoint(m, ref.repository(), false, true));
    }
    out.add(fromFile.get(fromFile.size() - 1));
    return out;
  }

  Image pull(RegistryReference ref, PullOptions options, ImportProgress listener) throws IOException {
    String what = "pull " + ref;
    List<RegistriesConf.Endpoint> endpoints = endpoints(ref, options);
    RegistryException failure = null;
    for (RegistriesConf.Endpoint endpoint : endpoints) {
      RegistryClient client;
      RegistryClient.Manifest top;
      PullOptions o = endpoint.insecure() && !options.insecure(endpoint.registry())
          ? options.toBuilder().insecureRegistry(endpoint.registry()).build() : options;
      try {
        client = RegistryClient.connect(endpoint.registry(), o);
        top = client.manifest(endpoint.repository(), ref.manifestReference(), limits.maxJsonBytes(), what);
      } catch (RegistryException e) {
        if (!endpoint.mirror()) {
          if (failure != null) {
            e.addSuppressed(failure);
          }
          throw e;
        }
        LOG.info("{}: mirror {}/{} failed ({}); trying the next", what, endpoint.registry(), endpoint.repository(),
            e.getMessage());
        failure = e;
        continue;
      }
      return pull(ref, endpoint.repository(), options, client, top, what, listener);
    }
    throw new IllegalStateException("unreachable: the registry itself is the last endpoint");
  }

  private Image pull(RegistryReference ref, String repository, PullOptions options, RegistryClient client, RegistryClient.Manifest top,
      String what, ImportProgress listener) throws IOException {
    Platform wanted = options.platform().orElse(Platform.host());
    Map<Digest, byte[]> jsonBlobs = new LinkedHashMap<>();
    RegistryClient.Manifest m = top;
    int depth = 0;
    while (MediaTypes.isIndex(m.mediaType())) {
      if (++depth > 4) {
        throw new ImageException(what + ": image indexes nested too deeply");
      }
      jsonBlobs.put(m.digest(), m.bytes());
      ImageIndex index = Json.readIndex(m.bytes(), what + " index " + m.digest());
      Descriptor d = Importer.selectPlatform(index, m.digest(), wanted);
      m = client.manifest(repository, d.digest().toString(), limits.maxJsonBytes(), what);
      if (m.bytes().length != d.size()) {
        throw new BlobVerificationException(what + ": manifest " + d.digest() + " is " + m.bytes().length
            + " bytes, the index says " + d.size());
      }
    }
    if (!MediaTypes.isManifest(m.mediaType())) {
      throw new ImageException(what + ": registry " + client.registry() + " sent a manifest of media type `" + m.mediaType()
          + "`; supported: OCI image index and manifest, Docker manifest list and manifest v2 schema 2");
    }
    jsonBlobs.put(m.digest(), m.bytes());
    ImageManifest manifest = Json.readManifest(m.bytes(), what + " manifest " + m.digest());
    Descriptor cd = manifest.config();
    if (cd.size() > limits.maxJsonBytes()) {
      throw new LimitExceededException(what + ": config blob " + cd.digest() + " is " + cd.size() + " bytes, over "
          + limits.maxJsonBytes());
    }
    byte[] cb;
    try (InputStream in = client.blob(repository, cd, what)) {
      cb = in.readNBytes((int) cd.size() + 1);
    }
    Digest actual = cd.digest().sameAlgorithm(cd.digest().newMessageDigest().digest(cb));
    if (!actual.equals(cd.digest()) || cb.length != cd.size()) {
      throw new BlobVerificationException(what + ": config blob " + cd.digest() + " failed verification: expected size "
          + cd.size() + ", got digest " + actual + " size " + cb.length);
    }
    jsonBlobs.put(cd.digest(), cb);
    Set<InputStream> open = ConcurrentHashMap.newKeySet();
    AtomicBoolean aborted = new AtomicBoolean();
    BlobSource source = new BlobSource() {
      @Override
      public String description() {
        return "registry " + client.registry() + " (" + ref + ")";
      }

      @Override
      public Optional<SourceBlob> blob(Descriptor d) {
        return Optional.of(new SourceBlob() {
          @Override
          public Optional<SourceFile> staged() {
            return Optional.empty();
          }

          @Override
          public InputStream open() throws IOException {
            InputStream in = client.blob(repository, d, what);
            open.add(in);
            if (aborted.get()) {
              in.close();
              throw new InterruptedIOException(what + ": interrupted before blob " + d.digest() + " was downloaded");
            }
            return in;
          }
        });
      }

      @Override
      public boolean aborted() {
        return aborted.get();
      }

      @Override
      public void abort() {
        aborted.set(true);
        for (InputStream in : open) {
          try {
            in.close(); // the reading worker's next read fails: the download ends now
          } catch (IOException e) {
            LOG.debug("{}: closing a download: {}", what, e.toString());
          }
        }
      }
    };
    return importer.store(source, ref.storeName(), m.digest(), manifest, jsonBlobs, listener);
  }
}
