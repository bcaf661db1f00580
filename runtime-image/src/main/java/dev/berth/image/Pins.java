package dev.berth.image;

import dev.berth.image.internal.Files2;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/** Persistent pins, {@code pins/<holder>}: the DiffIDs a holder (a created container) needs. */
final class Pins {
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
    StringBuilder sb = new StringBuilder();
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
    Set<Digest> out = new HashSet<>();
    try (Stream<Path> s = Files.list(pins)) {
      for (Path p : s.toList()) {
        if (p.getFileName().toString().startsWith(".tmp-")) {
          continue;
        }
        for (String line : Files.readAllLines(p)) {
          if (!line.isBlank()) {
            out.add(Digest.parse(line.trim()));
          }
        }
      }
    }
    return out;
  }
}
