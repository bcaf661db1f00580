package dev.berth.image;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import dev.berth.image.internal.Files2;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The owners a rootless store could not give a layer's entries itself. An unprivileged user can
 * only create files it owns, so a rootless store unpacks every entry as its own (the container's
 * root) and lists here the entries whose tar header named another owner, with their permission
 * bits (a later chown clears setuid and setgid). The runtime hands the list to a process inside the
 * container's user namespace, which can give each entry its mapped owner; without subordinate ids
 * (a single-id mapping) the entries stay the container root's, as rootless podman leaves them.
 *
 * <p>The list is a JSON file beside the layer's tree ({@code layers/<alg>/<hex>.owners.json}), absent
 * when every entry is root's or the store is rootful.
 */
public final class LayerOwners {
  private static final JsonFactory JSON = new JsonFactory();
  static final String SUFFIX = ".owners.json";

  private LayerOwners() {}

  /**
   * One entry of a layer and the owner its tar header named.
   *
   * @param path the entry's path in the layer, relative, '/'-separated, without a leading slash or a
   *     {@code ..} component; {@code .} is the layer's root directory
   * @param uid  the owner's uid inside the container (not 0 where gid is 0)
   * @param gid  the group's gid inside the container
   * @param mode the permission bits the entry must keep (07777: setuid, setgid, sticky and rwx)
   */
  public record Entry(String path, int uid, int gid, int mode) {
    public Entry {
      if (path.isEmpty() || path.startsWith("/") || path.contains("\0")) {
        throw new IllegalArgumentException("owners entry path: not a relative path: " + path);
      }
      if (path.equals("..") || path.startsWith("../") || path.endsWith("/..") || path.contains("/../")) {
        throw new IllegalArgumentException("owners entry path: `..` component in " + path);
      }
      if (uid < 0 || gid < 0) {
        throw new IllegalArgumentException("owners entry " + path + ": negative owner " + uid + ":" + gid);
      }
      if ((mode & ~07777) != 0) {
        throw new IllegalArgumentException("owners entry " + path + ": mode " + Integer.toOctalString(mode)
            + " has bits outside 07777");
      }
    }
  }

  /** Where the list of the layer unpacked at {@code layerTree} lives. */
  public static Path fileFor(Path layerTree) {
    return layerTree.resolveSibling(layerTree.getFileName() + SUFFIX);
  }

  /** The entries of the layer at {@code layerTree} that are not root's; empty if there are none. */
  public static List<Entry> read(Path layerTree) throws IOException {
    Path file = fileFor(layerTree);
    List<Entry> out = new ArrayList<>();
    try (InputStream in = Files.newInputStream(file); JsonParser p = JSON.createParser(in)) {
      expect(p, p.nextToken(), JsonToken.START_ARRAY, file);
      for (JsonToken t = p.nextToken(); t != JsonToken.END_ARRAY; t = p.nextToken()) {
        expect(p, t, JsonToken.START_OBJECT, file);
        String path = null;
        long uid = -1;
        long gid = -1;
        long mode = -1;
        for (t = p.nextToken(); t != JsonToken.END_OBJECT; t = p.nextToken()) {
          String field = p.currentName();
          JsonToken v = p.nextToken();
          switch (field) {
            case "path" -> {
              expect(p, v, JsonToken.VALUE_STRING, file);
              path = p.getText();
            }
            case "uid", "gid", "mode" -> {
              expect(p, v, JsonToken.VALUE_NUMBER_INT, file);
              long n = p.getLongValue();
              if (n < 0 || n > 0xFFFF_FFFEL) {
                throw new IOException(file + ": " + field + " " + n + " out of range");
              }
              if (field.equals("uid")) {
                uid = n;
              } else if (field.equals("gid")) {
                gid = n;
              } else {
                mode = n;
              }
            }
            default -> p.skipChildren();
          }
        }
        if (path == null || uid < 0 || gid < 0 || mode < 0) {
          throw new IOException(file + ": an entry lacks path, uid, gid or mode");
        }
        try {
          out.add(new Entry(path, (int) uid, (int) gid, (int) mode));
        } catch (IllegalArgumentException e) {
          throw new IOException(file + ": " + e.getMessage(), e);
        }
      }
    } catch (NoSuchFileException e) {
      return List.of();
    } catch (JsonProcessingException e) {
      throw new IOException(file + ": not a valid owners list: " + e.getOriginalMessage(), e);
    }
    return List.copyOf(out);
  }

  /**
   * Writes the list for the layer at {@code layerTree} atomically (removes it when {@code entries} is
   * empty).
   */
  public static void write(Path layerTree, List<Entry> entries) throws IOException {
    Path file = fileFor(layerTree);
    if (entries.isEmpty()) {
      Files.deleteIfExists(file);
      return;
    }
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (JsonGenerator g = JSON.createGenerator(bytes)) {
      g.writeStartArray();
      for (Entry e : entries) {
        g.writeStartObject();
        g.writeStringField("path", e.path());
        g.writeNumberField("uid", Integer.toUnsignedLong(e.uid()));
        g.writeNumberField("gid", Integer.toUnsignedLong(e.gid()));
        g.writeNumberField("mode", e.mode());
        g.writeEndObject();
      }
      g.writeEndArray();
    }
    Files2.writeAtomically(file, bytes.toByteArray());
  }

  private static void expect(JsonParser p, JsonToken got, JsonToken want, Path file) throws IOException {
    if (got != want) {
      throw new IOException(file + ": expected " + want + " at " + p.currentLocation().getCharOffset()
          + ", found " + got);
    }
  }
}
