package dev.berth.image;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.zip.GZIPOutputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.commons.compress.archivers.tar.TarConstants;

/** Test fixtures: layer tars built with commons-compress, and OCI image layouts around them. */
public final class Fixtures {
  private Fixtures() {}

  public static final Instant T0 = Instant.parse("2020-01-02T03:04:05Z");

  /** {@code setfacl -m u:65534:r-x} as the {@code system.posix_acl_access} xattr holds it (0xff bytes: not UTF-8). */
  public static final byte[] ACL_NOBODY_RX =
      HexFormat.of().parseHex("0200000001000600ffffffff02000500feff000004000400ffffffff10000500ffffffff20000400ffffffff");
  /** {@code setcap cap_setuid,cap_net_raw+ep} as {@code security.capability} holds it: bit 7 makes the first byte 0x80. */
  public static final byte[] CAP_SETUID_NET_RAW = HexFormat.of().parseHex("0100000280200000000000000000000000000000");

  /**
   * An entry whose header names owner {@code uid:gid} and {@code mode} (the name kept as given), for the
   * kinds no {@link Tar} method makes with an owner (links, devices, fifos): set what else it needs.
   */
  public static TarArchiveEntry owned(String name, byte type, long uid, long gid, int mode) {
    TarArchiveEntry e = new TarArchiveEntry(name, type, true);
    e.setUserId(uid);
    e.setGroupId(gid);
    e.setMode(mode);
    return e;
  }

  /** Builds a tar in memory. */
  public static final class Tar {
    private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    private final TarArchiveOutputStream out;

    public Tar() {
      this(new ByteArrayOutputStream());
    }

    private Tar(ByteArrayOutputStream ignored) {
      out = new TarArchiveOutputStream(bytes, "UTF-8");
      out.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
      out.setBigNumberMode(TarArchiveOutputStream.BIGNUMBER_POSIX);
      out.setAddPaxHeadersForNonAsciiNames(true);
    }

    private Tar put(TarArchiveEntry e, byte[] content) {
      try {
        e.setModTime(FileTime.from(T0));
        out.putArchiveEntry(e);
        if (content != null) {
          out.write(content);
        }
        out.closeArchiveEntry();
        return this;
      } catch (IOException x) {
        throw new UncheckedIOException(x);
      }
    }

    public Tar dir(String name) {
      return dir(name, 0755);
    }

    public Tar dir(String name, int mode) {
      TarArchiveEntry e = new TarArchiveEntry(name.endsWith("/") ? name : name + "/", TarArchiveEntry.LF_DIR);
      e.setMode(mode);
      return put(e, null);
    }

    public Tar entry(TarArchiveEntry e, byte[] content) {
      return put(e, content);
    }

    public Tar file(String name, String content) {
      return file(name, content, 0644);
    }

    public Tar file(String name, String content, int mode) {
      byte[] b = content.getBytes(StandardCharsets.UTF_8);
      TarArchiveEntry e = new TarArchiveEntry(name, TarArchiveEntry.LF_NORMAL, true);
      e.setMode(mode);
      e.setSize(b.length);
      return put(e, b);
    }

    /** A regular file whose header names owner {@code uid:gid}. */
    public Tar ownedFile(String name, long uid, long gid, int mode, byte[] content) {
      TarArchiveEntry e = owned(name, TarArchiveEntry.LF_NORMAL, uid, gid, mode);
      e.setSize(content.length);
      return put(e, content);
    }

    /** A directory whose header names owner {@code uid:gid}. */
    public Tar ownedDir(String name, long uid, long gid, int mode) {
      return put(owned(name.endsWith("/") ? name : name + "/", TarArchiveEntry.LF_DIR, uid, gid, mode), null);
    }

    public Tar fileWithXattrs(String name, String content, Map<String, String> xattrs) {
      byte[] b = content.getBytes(StandardCharsets.UTF_8);
      TarArchiveEntry e = new TarArchiveEntry(name, TarArchiveEntry.LF_NORMAL, true);
      e.setMode(0644);
      e.setSize(b.length);
      xattrs.forEach((k, v) -> e.addPaxHeader("SCHILY.xattr." + k, v));
      return put(e, b);
    }

    public Tar dirWithXattrs(String name, Map<String, String> xattrs) {
      TarArchiveEntry e = new TarArchiveEntry(name.endsWith("/") ? name : name + "/", TarArchiveEntry.LF_DIR);
      e.setMode(0755);
      xattrs.forEach((k, v) -> e.addPaxHeader("SCHILY.xattr." + k, v));
      return put(e, null);
    }

    public Tar symlink(String name, String target) {
      TarArchiveEntry e = new TarArchiveEntry(name, TarArchiveEntry.LF_SYMLINK, true);
      e.setLinkName(target);
      e.setMode(0777);
      return put(e, null);
    }

    public Tar hardlink(String name, String target) {
      return hardlink(name, target, 0644);
    }

    public Tar hardlink(String name, String target, int mode) {
      TarArchiveEntry e = new TarArchiveEntry(name, TarArchiveEntry.LF_LINK, true);
      e.setLinkName(target);
      e.setMode(mode);
      return put(e, null);
    }

    public Tar chardev(String name, int major, int minor) {
      TarArchiveEntry e = new TarArchiveEntry(name, TarArchiveEntry.LF_CHR, true);
      e.setDevMajor(major);
      e.setDevMinor(minor);
      e.setMode(0666);
      return put(e, null);
    }

    public Tar fifo(String name) {
      TarArchiveEntry e = new TarArchiveEntry(name, TarArchiveEntry.LF_FIFO, true);
      e.setMode(0640);
      return put(e, null);
    }

    public byte[] bytes() {
      try {
        out.finish();
        out.close();
      } catch (IOException x) {
        throw new UncheckedIOException(x);
      }
      return bytes.toByteArray();
    }
  }

  /**
   * Builds a tar block by block, with pax headers holding exactly the given bytes: commons-compress
   * (and so {@link Tar}) writes pax values only from Strings, as UTF-8.
   */
  public static final class RawTar {
    private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();

    /** A pax extended header ('x') for the next entry, its data being {@code records}. */
    public RawTar pax(byte[] records) {
      return put(new TarArchiveEntry("PaxHeaders/x", TarConstants.LF_PAX_EXTENDED_HEADER_LC), records);
    }

    /** A global pax header ('g'), applying to every later entry. */
    public RawTar globalPax(byte[] records) {
      return put(new TarArchiveEntry("GlobalHead.0", TarConstants.LF_PAX_GLOBAL_EXTENDED_HEADER), records);
    }

    public RawTar file(String name, byte[] content) {
      TarArchiveEntry e = new TarArchiveEntry(name, TarConstants.LF_NORMAL, true);
      e.setMode(0644);
      return put(e, content);
    }

    private RawTar put(TarArchiveEntry e, byte[] data) {
      e.setSize(data.length);
      e.setModTime(FileTime.from(T0));
      byte[] header = new byte[512];
      e.writeEntryHeader(header);
      bytes.writeBytes(header);
      bytes.writeBytes(data);
      bytes.writeBytes(new byte[(512 - data.length % 512) % 512]);
      return this;
    }

    public byte[] bytes() {
      bytes.writeBytes(new byte[1024]);
      return bytes.toByteArray();
    }
  }

  /** One pax record {@code "<length> <keyword>=<value>\n"}, its length counting itself. */
  public static byte[] paxRecord(String keyword, byte[] value) {
    byte[] k = keyword.getBytes(StandardCharsets.UTF_8);
    int rest = 1 + k.length + 1 + value.length + 1;
    int length = rest + 1;
    while (Integer.toString(length).length() + rest != length) {
      length = Integer.toString(length).length() + rest;
    }
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    b.writeBytes((length + " " + keyword + "=").getBytes(StandardCharsets.UTF_8));
    b.writeBytes(value);
    b.write('\n');
    return b.toByteArray();
  }

  /** Concatenated records. */
  public static byte[] paxRecords(byte[]... records) {
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    for (byte[] r : records) {
      b.writeBytes(r);
    }
    return b.toByteArray();
  }

  public static byte[] gzip(byte[] b) {
    try {
      ByteArrayOutputStream o = new ByteArrayOutputStream();
      try (OutputStream g = new GZIPOutputStream(o)) {
        g.write(b);
      }
      return o.toByteArray();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public static byte[] zstd(byte[] b) {
    return com.github.luben.zstd.Zstd.compress(b);
  }

  /** A layer for a layout: its blob bytes, media type and uncompressed tar (for the DiffID). */
  public record Layer(byte[] blob, String mediaType, byte[] tar) {
    public static Layer gzip(byte[] tar) {
      return new Layer(Fixtures.gzip(tar), MediaTypes.OCI_LAYER_GZIP, tar);
    }

    public static Layer zstd(byte[] tar) {
      return new Layer(Fixtures.zstd(tar), MediaTypes.OCI_LAYER_ZSTD, tar);
    }

    public static Layer plain(byte[] tar) {
      return new Layer(tar, MediaTypes.OCI_LAYER, tar);
    }
  }

  public static String json(String s) {
    return s.replace('\'', '"');
  }

  /**
   * Writes an OCI image layout with one image tagged {@code tag}. Returns the manifest digest.
   * {@code configOverride}, when non-null, replaces the generated config JSON.
   */
  public static Digest writeLayout(Path dir, String tag, List<Layer> layers, String configOverride) throws IOException {
    Files.createDirectories(dir.resolve("blobs/sha256"));
    Files.writeString(dir.resolve("oci-layout"), "{\"imageLayoutVersion\":\"1.0.0\"}");
    List<String> diffIds = new ArrayList<>();
    StringBuilder ls = new StringBuilder();
    for (Layer l : layers) {
      Digest d = blob(dir, l.blob());
      diffIds.add("\"" + Digest.sha256Of(l.tar()) + "\"");
      if (ls.length() > 0) {
        ls.append(',');
      }
      ls.append("{\"mediaType\":\"").append(l.mediaType()).append("\",\"digest\":\"").append(d)
          .append("\",\"size\":").append(l.blob().length).append('}');
    }
    String config = configOverride != null ? configOverride
        : "{\"architecture\":\"" + Platform.host().architecture() + "\",\"os\":\"linux\","
            + "\"config\":{\"Env\":[\"A=1\"],\"Entrypoint\":[\"/bin/sh\"],\"Cmd\":[\"-c\",\"true\"],\"WorkingDir\":\"/w\"},"
            + "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[" + String.join(",", diffIds) + "]}}";
    byte[] cb = config.getBytes(StandardCharsets.UTF_8);
    Digest cd = blob(dir, cb);
    String manifest = "{\"schemaVersion\":2,\"mediaType\":\"" + MediaTypes.OCI_MANIFEST + "\","
        + "\"config\":{\"mediaType\":\"" + MediaTypes.OCI_CONFIG + "\",\"digest\":\"" + cd + "\",\"size\":" + cb.length + "},"
        + "\"layers\":[" + ls + "]}";
    byte[] mb = manifest.getBytes(StandardCharsets.UTF_8);
    Digest md = blob(dir, mb);
    String index = "{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"" + MediaTypes.OCI_MANIFEST + "\",\"digest\":\""
        + md + "\",\"size\":" + mb.length + ",\"annotations\":{\"org.opencontainers.image.ref.name\":\"" + tag + "\"}}]}";
    Files.writeString(dir.resolve("index.json"), index);
    return md;
  }

  public static Digest blob(Path layout, byte[] b) throws IOException {
    Digest d = Digest.sha256Of(b);
    Files.write(layout.resolve("blobs/sha256/" + d.hex()), b);
    return d;
  }
}
