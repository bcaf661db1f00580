package dev.berth.image;

import dev.berth.image.internal.DeferredSync;
import dev.berth.image.internal.DeferredSync.Action;
import dev.berth.image.internal.Files2;
import java.io.IOException;
import java.net.URLDecoder;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * The names of a store, {@code refs/<url-encoded name:tag>}, each holding a manifest digest,
 * written temp + fsync + rename and undoable until on disk.
 */
final class RefStore {
  private final Path root;
  private final Path refs;
  private final BlobStore blobs;
  private final DeferredSync durability;

  RefStore(Path root, Path refs, BlobStore blobs, DeferredSync durability) {
    this.root = root;
    this.refs = refs;
    this.blobs = blobs;
    this.durability = durability;
  }

  Path dir() {
    return refs;
  }

  private Path path(ImageReference r) {
    return refs.resolve(URLEncoder.encode(r.toString(), StandardCharsets.UTF_8));
  }

  /** The ref is undone with the image's layers should they not survive a crash (DeferredSync). */
  void write(ImageReference r, Digest manifest) throws IOException {
    Path p = path(r);
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

  /** Deletes a ref; false when there was none. */
  boolean delete(ImageReference r) throws IOException {
    if (!Files.deleteIfExists(path(r))) {
      return false;
    }
    Files2.fsyncDir(refs);
    return true;
  }

  Optional<Image> find(ImageReference r) throws IOException {
    Path p = path(r);
    if (!Files.isRegularFile(p)) {
      return Optional.empty();
    }
    return Optional.of(load(r, p));
  }

  /** All images (one per name:tag), sorted by file name. */
  List<Image> images() throws IOException {
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

  private Image load(ImageReference r, Path refFile) throws IOException {
    String s = Files.readString(refFile).trim();
    Digest md;
    try {
      md = Digest.parse(s);
    } catch (IllegalArgumentException e) {
      throw new ImageException("ref " + r + ": " + e.getMessage(), e);
    }
    ImageManifest m = blobs.manifest(md);
    ImageConfig c = blobs.config(m.config().digest());
    return new Image(r.toString(), md, c, c.diffIds());
  }
}
