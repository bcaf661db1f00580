package dev.berth.image;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

/**
 * Mark and sweep: everything reachable from the refs (manifest, config, layer blobs; DiffIDs) plus
 * the layers pinned in memory or by a holder stays; the rest is deleted. The caller holds the
 * store's write lock.
 */
final class GarbageCollector {
  private final RefStore refs;
  private final BlobStore blobs;
  private final LayerCache layers;
  private final Pins pins;

  GarbageCollector(RefStore refs, BlobStore blobs, LayerCache layers, Pins pins) {
    this.refs = refs;
    this.blobs = blobs;
    this.layers = layers;
    this.pins = pins;
  }

  void collect() throws IOException {
    Set<Digest> liveBlobs = new HashSet<>();
    Set<Digest> liveLayers = new HashSet<>();
    for (Image img : refs.images()) {
      liveBlobs.add(img.manifestDigest());
      ImageManifest m = blobs.manifest(img.manifestDigest());
      liveBlobs.add(m.config().digest());
      m.layers().forEach(l -> liveBlobs.add(l.digest()));
      liveLayers.addAll(img.diffIds());
    }
    liveLayers.addAll(layers.leased());
    liveLayers.addAll(pins.pinned());
    // a holder's image (its manifest and config) stays while it is pinned, named or not: a restart runs it
    for (Digest md : pins.pinnedManifests()) {
      if (liveBlobs.add(md) && Files.isRegularFile(blobs.path(md), LinkOption.NOFOLLOW_LINKS)) {
        liveBlobs.add(blobs.manifest(md).config().digest());
      }
    }
    for (String alg : List.of("sha256", "sha512")) {
      Path bd = blobs.algorithmDir(alg);
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
      Path ld = layers.algorithmDir(alg);
      if (Files.isDirectory(ld)) {
        try (Stream<Path> s = Files.list(ld)) {
          List<Path> owners = new ArrayList<>();
          for (Path p : s.toList()) {
            if (besideLayer(p.getFileName().toString()) != null) {
              owners.add(p); // a file beside a layer goes with its layer (LayerCache.delete)
              continue;
            }
            Digest d = tryDigest(alg, p);
            if (d == null || !liveLayers.contains(d)) {
              layers.delete(p, d);
            }
          }
          // files beside a layer that is gone: its owners list when the layer never became visible (a
          // crash between the list and the rename), the runtime's marker of owners given
          for (Path o : owners) {
            Path layer = o.resolveSibling(besideLayer(o.getFileName().toString()));
            if (!Files.isDirectory(layer, LinkOption.NOFOLLOW_LINKS)) {
              Files.deleteIfExists(o);
            }
          }
        }
      }
    }
  }

  /** Suffixes of the files that live beside a layer's tree ({@code <hex><suffix>}) and go with it. */
  static final List<String> BESIDE_LAYER = List.of(LayerOwners.SUFFIX, ".owners-applied");

  /** The layer name a file beside a layer belongs to, or null when the name is not of such a file. */
  static String besideLayer(String name) {
    for (String suffix : BESIDE_LAYER) {
      if (name.endsWith(suffix) && name.length() > suffix.length()) {
        return name.substring(0, name.length() - suffix.length());
      }
    }
    return null;
  }

  private static Digest tryDigest(String alg, Path p) {
    try {
      return Digest.parse(alg + ":" + p.getFileName());
    } catch (IllegalArgumentException e) {
      return null;
    }
  }
}
