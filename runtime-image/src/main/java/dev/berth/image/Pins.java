package dev.berth.image;

import dev.berth.image.internal.Files2;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Persistent pins, {@code pins/<holder>}: what a holder (a created container) needs of its image. One line
 * {@code manifest <digest>} (the image it was created from: its manifest and config blobs stay, so that a
 * restart runs that image whatever its name points at by then), then one DiffID a line (its layers stay
 * unpacked). A pin written before the manifest line existed has DiffIDs only.
 */
final class Pins {
  private static final String MANIFEST = "manifest ";
  private static final Pattern HOLDER = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.-]{0,127}");
  private final Path pins;

  Pins(Path pins) {
    this.pins = pins;
  }

  static void checkHolder(String holder) {
    if (holder == null || !HOLDER.matcher(holder).matches()) {
      throw new IllegalArgumentException("invalid pin holder `" + holder + "`: use [A-Za-z0-9_.-], at most 128");
    }
  }

  void write(String holder, Image image) throws IOException {
    checkHolder(holder);
    StringBuilder sb = new StringBuilder(MANIFEST).append(image.manifestDigest()).append('\n');
    for (Digest d : image.diffIds()) {
      sb.append(d).append('\n');
    }
    Files2.writeAtomically(pins.resolve(holder), sb.toString().getBytes(StandardCharsets.UTF_8));
  }

  /** Removes the holder's pin, and a pin of it that was being written when its JVM died. */
  void delete(String holder) throws IOException {
    checkHolder(holder);
    Files.deleteIfExists(pins.resolve(holder));
    // Files2.writeAtomically's temporary: .tmp-<holder>-<16 hex> (the holder's owner unpins: none is in flight)
    String partial = ".tmp-" + holder + "-";
    try (Stream<Path> s = Files.list(pins)) {
      for (Path p : s.toList()) {
        String name = p.getFileName().toString();
        if (name.startsWith(partial) && name.substring(partial.length()).matches("[0-9a-f]{16}")) {
          Files.deleteIfExists(p);
        }
      }
    } catch (java.nio.file.NoSuchFileException e) {
      // no pins yet
    }
  }

  /** Every DiffID some holder pins. */
  Set<Digest> pinned() throws IOException {
    return collect(false);
  }

  /** The manifest of every holder's image (pins written before they recorded it have none). */
  Set<Digest> pinnedManifests() throws IOException {
    return collect(true);
  }

  /** The manifest of the image {@code holder} pinned; empty without a pin, or for a pin without that line. */
  Optional<Digest> manifestOf(String holder) throws IOException {
    checkHolder(holder);
    List<String> lines;
    try {
      lines = Files.readAllLines(pins.resolve(holder));
    } catch (java.nio.file.NoSuchFileException e) {
      return Optional.empty();
    }
    return lines.stream().filter(l -> l.startsWith(MANIFEST)).findFirst()
        .map(l -> parse(holder, l.substring(MANIFEST.length())));
  }

  private Set<Digest> collect(boolean manifests) throws IOException {
    Set<Digest> out = new HashSet<>();
    try (Stream<Path> s = Files.list(pins)) {
      for (Path p : s.toList()) {
        String holder = p.getFileName().toString();
        if (holder.startsWith(".tmp-")) {
          continue;
        }
        for (String line : Files.readAllLines(p)) {
          if (line.isBlank() || line.startsWith(MANIFEST) != manifests) {
            continue;
          }
          out.add(parse(holder, manifests ? line.substring(MANIFEST.length()) : line));
        }
      }
    }
    return out;
  }

  private Digest parse(String holder, String digest) {
    try {
      return Digest.parse(digest.trim());
    } catch (IllegalArgumentException e) {
      throw new ImageException("pin " + pins.resolve(holder) + ": " + e.getMessage(), e);
    }
  }
}
