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
            if (LayerCache.isOwnersFile(p)) {
              owners.add(p); // a layer's list goes with its layer (LayerCache.delete)
              continue;
            }
            Digest d = tryDigest(alg, p);
            if (d == null || !liveLayers.contains(d)) {
              layers.delete(p, d);
            }
          }
          // lists whose layer never became visible (a crash between the list and the rename)
          for (Path o : owners) {
            String n = o.getFileName().toString();
            Path layer = o.resolveSibling(n.substring(0, n.length() - LayerOwners.SUFFIX.length()));
            if (!Files.isDirectory(layer, LinkOption.NOFOLLOW_LINKS)) {
              Files.deleteIfExists(o);
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
}
