package dev.berth.image.internal;

import dev.berth.image.Digest;
import dev.berth.image.ImageException;
import dev.berth.image.LimitExceededException;
import java.io.BufferedInputStream;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.zip.GZIPInputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;

/**
 * Where an import reads from: an OCI layout directory, or a tar (oci-archive or docker-archive)
 * staged into a private directory of the store. Names inside an archive are only map keys; nothing
 * is ever created at a path taken from the archive.
 */
public abstract class ImageSource implements Closeable {
  /** A file of the source, with its sha256 when it was computed while staging. */
  public record SourceFile(Path path, long size, Optional<Digest> sha256) {}

  public final String description;

  protected ImageSource(String description) {
    this.description = description;
  }

  /** A top-level file such as {@code index.json}, {@code oci-layout}, {@code manifest.json}. */
  public abstract Optional<SourceFile> file(String name) throws IOException;

  public Optional<SourceFile> blob(Digest d) throws IOException {
    return file("blobs/" + d.algorithm() + "/" + d.hex());
  }

  public abstract boolean isOciLayout() throws IOException;

  @Override
  public void close() throws IOException {}

  public static ImageSource open(Path source, Path stagingParent, long maxBytes) throws IOException {
    if (Files.isDirectory(source)) {
      return new LayoutDir(source);
    }
    if (!Files.isRegularFile(source)) {
      throw new ImageException("import source " + source + " is neither a directory nor a file");
    }
    return Archive.stage(source, stagingParent, maxBytes);
  }

  static String normalise(String name) {
    List<String> out = new ArrayList<>();
    for (String p : name.split("/")) {
      if (p.isEmpty() || p.equals(".")) {
        continue;
      }
      if (p.equals("..")) {
        if (!out.isEmpty()) {
          out.remove(out.size() - 1);
        }
        continue;
      }
      out.add(p);
    }
    return String.join("/", out);
  }

  /** An OCI image layout directory. Blobs must be regular files (a symlink is not followed). */
  static final class LayoutDir extends ImageSource {
    private final Path dir;

    LayoutDir(Path dir) {
      super("layout " + dir);
      this.dir = dir;
    }

    @Override
    public Optional<SourceFile> file(String name) throws IOException {
      String n = normalise(name);
      Path p = dir;
      for (String c : n.split("/")) {
        p = p.resolve(c);
        if (Files.isSymbolicLink(p)) {
          throw new ImageException(description + ": `" + name + "` is a symlink; refusing to follow it");
        }
      }
      if (!Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)) {
        return Optional.empty();
      }
      return Optional.of(new SourceFile(p, Files.size(p), Optional.empty()));
    }

    @Override
    public boolean isOciLayout() {
      return true;
    }
  }

  /** A tar archive, staged file by file under a private directory, hashed while staging. */
  static final class Archive extends ImageSource {
    private final Path staging;
    private final Map<String, SourceFile> files = new HashMap<>();
    private final Map<String, String> links = new HashMap<>();

    private Archive(Path source, Path staging) {
      super("archive " + source);
      this.staging = staging;
    }

    static Archive stage(Path source, Path stagingParent, long maxBytes) throws IOException {
      Path staging = stagingParent.resolve("import-" + Files2.randomId());
      Files.createDirectories(staging);
      Archive a = new Archive(source, staging);
      try {
        a.read(source, maxBytes);
        return a;
      } catch (IOException | RuntimeException e) {
        Files2.deleteTreeQuietly(staging, e);
        throw e;
      }
    }

    private void read(Path source, long maxBytes) throws IOException {
      // raw is closed on every path, also when the gzip header or the first read fails
      try (InputStream raw = new BufferedInputStream(Files.newInputStream(source), 1 << 17)) {
        read(source, raw, maxBytes);
      }
    }

    private void read(Path source, InputStream raw, long maxBytes) throws IOException {
      raw.mark(4);
      int b0 = raw.read();
      int b1 = raw.read();
      raw.reset();
      long total = 0;
      int n = 0;
      byte[] buf = new byte[1 << 20];
      try (InputStream in = (b0 == 0x1f && b1 == 0x8b) ? new GZIPInputStream(raw, 1 << 17) : raw;
          TarArchiveInputStream tar = new TarArchiveInputStream(in, "UTF-8")) {
        TarArchiveEntry e;
        while ((e = tar.getNextEntry()) != null) {
          String name = normalise(e.getName());
          if (e.isSymbolicLink()) {
            String parent = name.contains("/") ? name.substring(0, name.lastIndexOf('/')) : "";
            String t = e.getLinkName();
            links.put(name, normalise(t.startsWith("/") ? t : parent + "/" + t));
            continue;
          }
          if (e.isLink()) {
            links.put(name, normalise(e.getLinkName()));
            continue;
          }
          if (e.isDirectory() || !isRegular(e)) {
            continue;
          }
          if (files.containsKey(name)) {
            throw new ImageException(description + ": duplicate entry `" + e.getName() + "`");
          }
          Path f = staging.resolve("f" + (n++));
          MessageDigest md = MessageDigest.getInstance("SHA-256");
          long size = 0;
          try (OutputStream out = Files.newOutputStream(f, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            int r;
            while ((r = tar.read(buf)) >= 0) {
              md.update(buf, 0, r);
              out.write(buf, 0, r);
              size += r;
              total += r;
              if (total > maxBytes) {
                throw new LimitExceededException(description + ": more than " + maxBytes + " bytes; import budget exceeded");
              }
            }
          }
          files.put(name, new SourceFile(f, size, Optional.of(Digest.sha256(HexFormat.of().formatHex(md.digest())))));
        }
      } catch (java.security.NoSuchAlgorithmException e) {
        throw new IllegalStateException(e);
      } catch (ImageException e) {
        throw e;
      } catch (IOException | IllegalArgumentException e) {
        throw new ImageException(description + " is not a readable tar archive: " + e.getMessage(), e);
      }
    }

    private static boolean isRegular(TarArchiveEntry e) {
      byte f = e.getLinkFlag();
      return f == TarArchiveEntry.LF_NORMAL || f == TarArchiveEntry.LF_OLDNORM || f == TarArchiveEntry.LF_CONTIG;
    }

    @Override
    public Optional<SourceFile> file(String name) {
      String n = normalise(name);
      for (int hops = 0; hops < 16; hops++) {
        SourceFile f = files.get(n);
        if (f != null) {
          return Optional.of(f);
        }
        String t = links.get(n);
        if (t == null) {
          return Optional.empty();
        }
        n = t;
      }
      return Optional.empty();
    }

    /** Forget a staged file after it was moved into the store. */
    public void moved(Path p) {
      files.values().removeIf(f -> f.path().equals(p));
    }

    @Override
    public boolean isOciLayout() {
      return files.containsKey("index.json") && files.containsKey("oci-layout");
    }

    @Override
    public void close() throws IOException {
      Files2.deleteTree(staging);
    }
  }
}
