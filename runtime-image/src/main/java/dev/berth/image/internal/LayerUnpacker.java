package dev.berth.image.internal;

import static dev.berth.image.internal.linux.LinuxFs.*;

import com.github.luben.zstd.ZstdInputStreamNoFinalizer;
import dev.berth.image.BlobVerificationException;
import dev.berth.image.Digest;
import dev.berth.image.ImageException;
import dev.berth.image.LayerOwners;
import dev.berth.image.LimitExceededException;
import dev.berth.image.MediaTypes.Compression;
import dev.berth.image.UnpackLimits;
import dev.berth.image.UnsafeLayerException;
import dev.berth.image.internal.linux.ErrnoException;
import dev.berth.image.internal.linux.LinuxFs;
import dev.berth.image.internal.linux.LinuxFs.Stat;
import dev.berth.linux.internal.ProcStatus;
import java.io.BufferedInputStream;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.zip.GZIPInputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Unpacks one layer tar into an empty directory, producing an overlayfs-ready lower layer.
 *
 * <p>Safety rules, applied to every entry afresh (no resolution is cached across entries):
 *
 * <ul>
 *   <li>names are cleaned lexically ({@code .} and empty components dropped, leading {@code /}
 *       stripped); any {@code ..} component is refused;
 *   <li>the parent directory is resolved with {@code openat2(RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS |
 *       RESOLVE_NO_XDEV)} from a directory fd of the layer root, so symlinks inside the layer are
 *       followed as if the layer were {@code /} and can never leave it;
 *   <li>the final component is created with an fd-relative call that never follows a symlink
 *       ({@code O_CREAT|O_EXCL|O_NOFOLLOW}, {@code mkdirat}, {@code symlinkat}, {@code mknodat},
 *       {@code linkat} without {@code AT_SYMLINK_FOLLOW}); metadata is applied through the fd
 *       of the object just created, or with {@code AT_SYMLINK_NOFOLLOW};
 *   <li>an entry whose name already exists in the layer is refused (duplicates, directory/symlink
 *       swaps), except a directory entry over a directory;
 *   <li>the root cannot change type; hardlink targets must already exist in this layer and are
 *       never directories; hardlinks get no metadata of their own (CVE-2021-32760).
 * </ul>
 *
 * <p>A rootless unpack (the store's JVM is not root; decided by the store, once) makes every entry
 * the unpacking user's: nothing is chowned, and each entry whose tar header names another owner is
 * listed in {@link Result#owners()} (for {@link LayerOwners}) with its permission bits. Device
 * nodes become empty regular files of mode 0, as rootless podman's storage makes them; FIFOs and
 * whiteouts (char 0:0, which mknod makes unprivileged since Linux 5.8) are made as usual; an opaque
 * directory gets {@code user.overlay.opaque=y}, for an overlay mounted with {@code userxattr}; and
 * the xattrs an unprivileged process cannot set ({@code trusted.*}, {@code security.capability})
 * are dropped with one warning per layer naming them.
 */
public final class LayerUnpacker {
  private static final Logger LOG = LoggerFactory.getLogger(LayerUnpacker.class);
  private static final String WH = ".wh.";
  private static final String OPAQUE = ".wh..wh..opq";
  private static final String WH_META = ".wh..wh.";
  private static final int BUF = 1 << 20;
  private static final long MAX_ID = 0xfffffffeL;
  private static final long RESOLVE =
      RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV;

  /** Outcome of an unpack. */
  public record Result(Digest diffId, long bytesWritten, long entries, List<LayerOwners.Entry> owners) {
    public Result {
      owners = List.copyOf(owners);
    }
  }

  private final String layer;
  private final UnpackLimits limits;
  /** Unpacking as an ordinary user: no chown, owners listed, devices as placeholders, user.* overlay xattrs. */
  private final boolean rootless;
  private final List<LayerOwners.Entry> owners = new ArrayList<>();
  private final Set<String> droppedXattrs = new TreeSet<>();
  private boolean loggedDevice;
  private int rootFd = -1;
  private String rootReal;
  private long written;
  private long entries;
  private final Set<String> seen = new HashSet<>();
  private final Set<String> opaqueDirs = new HashSet<>();
  private final Map<String, List<String>> whiteouts = new HashMap<>();
  private final List<DirTime> dirTimes = new ArrayList<>();
  private final byte[] buf = new byte[BUF];
  private boolean warnedXattr;

  /**
   * A directory's mtime, applied once its entries are in; in a rootless unpack also its mode
   * ({@code -1}: already set), and {@code path} is where it landed.
   */
  private record DirTime(String path, long sec, long nsec, int mode) {}

  private LayerUnpacker(String layer, UnpackLimits limits, boolean rootless) {
    this.layer = layer;
    this.limits = limits;
    this.rootless = rootless;
  }

  /**
   * A decompressing stream over {@code raw}. Closing it frees the decompressor, whose native
   * state (a zstd decoder's context and window buffer, about the window size of the layer) has no
   * cleaner and would otherwise stay allocated for the life of the process; {@code raw} stays open,
   * as its owner reads the rest of the blob after the unpack.
   */
  private static InputStream decompress(InputStream raw, Compression c, String layer) throws IOException {
    InputStream in = new BufferedInputStream(new FilterInputStream(raw) {
      @Override
      public void close() {
        // raw belongs to the caller
      }
    }, 1 << 17);
    try {
      switch (c) {
        case GZIP:
          return new GZIPInputStream(in, 1 << 17);
        case ZSTD:
          ZstdInputStreamNoFinalizer z = new ZstdInputStreamNoFinalizer(in);
          z.setContinuous(false);
          return new BufferedInputStream(z, 1 << 17);
        default:
          return in;
      }
    } catch (IOException e) {
      throw new ImageException("layer " + layer + " is not valid " + c.name().toLowerCase() + " data: " + e.getMessage(), e);
    }
  }

  /**
   * Unpacks {@code compressed} into the empty directory {@code dest}, drains the stream and verifies
   * the DiffID. On failure {@code dest} holds a partial result that the caller must discard.
   * {@code compressed} is read but not closed.
   */
  public static Result unpack(
      InputStream compressed, Compression c, Digest expectedDiffId, Path dest, UnpackLimits limits, String layer)
      throws IOException {
    return unpack(compressed, c, expectedDiffId, dest, limits, layer, !ProcStatus.isRoot());
  }

  /**
   * {@link #unpack(InputStream, Compression, Digest, Path, UnpackLimits, String)} rootful or, with
   * {@code rootless}, as described in the class comment (a rootful unpack needs root: it chowns).
   */
  public static Result unpack(
      InputStream compressed, Compression c, Digest expectedDiffId, Path dest, UnpackLimits limits, String layer,
      boolean rootless) throws IOException {
    LayerUnpacker u = new LayerUnpacker(layer, limits, rootless);
    return u.run(compressed, c, expectedDiffId, dest);
  }

  private Result run(InputStream compressed, Compression c, Digest expected, Path dest) throws IOException {
    long cap = limits.maxTotalBytes() + (1L << 30);
    rootFd = openat(AT_FDCWD, dest.toString(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC, 0);
    try (InputStream decompressed = decompress(compressed, c, layer)) {
      CountingDigestInputStream tarBytes = new CountingDigestInputStream(
          decompressed, expected.newMessageDigest(), cap, "layer " + layer + " decompressed stream");
      // decompression and hashing run on their own thread, overlapping with the file-system work
      PipelinedInputStream pipe = new PipelinedInputStream(tarBytes, layer);
      try {
        return unpackEntries(pipe, tarBytes, expected);
      } finally {
        pipe.close(); // stops the producer before the decompressor it reads is freed
      }
    } finally {
      closeFd(rootFd);
    }
  }

  private Result unpackEntries(PipelinedInputStream pipe, CountingDigestInputStream tarBytes, Digest expected)
      throws IOException {
    rootReal = realPath(rootFd);
    XattrTarInputStream tar = new XattrTarInputStream(pipe, layer);
    TarArchiveEntry e;
    while (true) {
      try {
        e = tar.getNextEntry();
      } catch (ImageException ex) {
        throw ex; // a budget, or pax records refused: the message says which
      } catch (IOException | IllegalArgumentException ex) {
        throw new UnsafeLayerException("layer " + layer + ": unreadable layer stream or tar header: " + ex.getMessage());
      }
      if (e == null) {
        break;
      }
      if (++entries > limits.maxEntries()) {
        throw new LimitExceededException(
            "layer " + layer + ": more than " + limits.maxEntries() + " entries; entry budget exceeded");
      }
      try {
        entry(tar, e);
      } catch (ImageException ex) {
        throw ex;
      } catch (IOException ex) {
        // a failed syscall, or the layer stream failing under the entry's content
        throw new ImageException("layer " + layer + ": entry `" + e.getName() + "`: " + ex.getMessage(), ex);
      }
    }
    if (!droppedXattrs.isEmpty()) {
      LOG.warn("layer {}: rootless store: dropped the xattrs {} (an unprivileged user cannot set trusted.* or"
          + " security.capability; see docs/rootless.md)", layer, String.join(", ", droppedXattrs));
    }
    pipe.drain(); // the producer reads the stream to its end: trailing bytes count
    Digest actual = expected.sameAlgorithm(tarBytes.digest());
    if (!actual.equals(expected)) {
      throw new BlobVerificationException(
          "layer " + layer + ": wrong DiffID: expected " + expected + ", got " + actual
              + " after reading " + tarBytes.count() + " bytes");
    }
    List<DirTime> dirs = dirTimes;
    if (rootless) {
      // an unprivileged user needs search permission on every parent of the directories whose
      // modes are still to be set (0555, 0500, 0000 ...): the deepest go first
      dirs = new ArrayList<>(dirTimes);
      dirs.sort(java.util.Comparator.comparingLong((DirTime d) -> d.path.chars().filter(ch -> ch == '/').count()
          + (d.path.isEmpty() ? 0 : 1)));
    }
    for (int i = dirs.size() - 1; i >= 0; i--) {
      DirTime d = dirs.get(i);
      int fd = d.path.isEmpty() ? openat(rootFd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0)
          : openat2(rootFd, d.path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC, RESOLVE);
      try {
        futimens(fd, d.sec, d.nsec, d.path);
        if (d.mode >= 0) {
          fchmod(fd, d.mode, d.path.isEmpty() ? "/" : d.path);
        }
      } finally {
        closeFd(fd);
      }
    }
    // not synced here: the store makes layers durable after committing them (DeferredSync)
    return new Result(actual, written, entries, owners);
  }

  // ---- names

  /**
   * Lexically cleans a tar name into components; refuses {@code ..}. Empty list means the root.
   * Scans by hand: this runs for every entry, and {@code String.split} with its regex fallback
   * was among the costliest methods the JIT compiled during an import.
   */
  static List<String> clean(String raw, String layer) throws UnsafeLayerException {
    if (raw == null || raw.isEmpty()) {
      throw new UnsafeLayerException("layer " + layer + ": entry with an empty name");
    }
    if (raw.indexOf('\0') >= 0) {
      throw new UnsafeLayerException("layer " + layer + ": entry `" + raw + "` has a NUL in its name");
    }
    List<String> out = new ArrayList<>(8);
    int n = raw.length();
    int i = 0;
    while (i < n) {
      int j = raw.indexOf('/', i);
      if (j < 0) {
        j = n;
      }
      int len = j - i;
      boolean dot = len >= 1 && raw.charAt(i) == '.';
      if (len == 2 && dot && raw.charAt(i + 1) == '.') {
        throw new UnsafeLayerException(
            "layer " + layer + ": entry `" + raw + "` escapes the layer directory (`..` component)");
      }
      if (len > 0 && !(len == 1 && dot)) {
        out.add(raw.substring(i, j));
      }
      i = j + 1;
    }
    return out;
  }

  /** The first {@code n} components joined with {@code /}. */
  private static String join(List<String> c, int n) {
    if (n == 1) {
      return c.get(0);
    }
    StringBuilder sb = new StringBuilder(64);
    for (int i = 0; i < n; i++) {
      if (i > 0) {
        sb.append('/');
      }
      sb.append(c.get(i));
    }
    return sb.toString();
  }

  // ---- entries

  private void entry(XattrTarInputStream tar, TarArchiveEntry e) throws IOException {
    String name = e.getName();
    if (e.isGlobalPaxHeader()) {
      return;
    }
    List<String> comps = clean(name, layer);
    String key = join(comps, comps.size());
    if (!seen.add(key)) {
      throw new UnsafeLayerException("layer " + layer + ": duplicate entry `" + name + "`");
    }
    if (e.isSparse()) {
      throw new UnsafeLayerException("layer " + layer + ": entry `" + name + "`: sparse files are not supported");
    }
    for (int i = 0; i < comps.size() - 1; i++) {
      if (comps.get(i).startsWith(WH)) {
        throw new UnsafeLayerException(
            "layer " + layer + ": entry `" + name + "`: whiteout name `" + comps.get(i) + "` used as a directory");
      }
    }
    if (comps.isEmpty()) {
      rootEntry(e, tar.xattrs());
      owned(-1, null, e, e.getLongUserId(), e.getLongGroupId(), e.getMode());
      return;
    }
    String base = comps.get(comps.size() - 1);
    List<String> parent = comps.subList(0, comps.size() - 1);
    if (base.startsWith(WH)) {
      whiteout(e, parent, base);
      return;
    }
    long uid = e.getLongUserId();
    long gid = e.getLongGroupId();
    if (uid < 0 || uid > MAX_ID || gid < 0 || gid > MAX_ID) {
      throw new UnsafeLayerException("layer " + layer + ": entry `" + name + "` has an invalid uid/gid " + uid + "/" + gid);
    }
    int pfd = openParent(parent, true, name);
    try {
      switch (kind(e)) {
        case DIR:
          directory(e, pfd, base, key, tar.xattrs());
          owned(pfd, base, e, uid, gid, e.getMode());
          break;
        case SYMLINK:
          String target = e.getLinkName();
          if (target == null || target.isEmpty()) {
            throw new UnsafeLayerException("layer " + layer + ": symlink `" + name + "` has an empty target");
          }
          try {
            symlinkat(target, pfd, base);
          } catch (ErrnoException ex) {
            throw conflictOr(ex, name);
          }
          if (!rootless) {
            lchownat(pfd, base, (int) uid, (int) gid);
          }
          owned(pfd, base, e, uid, gid, e.getMode());
          FileTime t = e.getLastModifiedTime();
          lutimensat(pfd, base, sec(t), nsec(t));
          break;
        case HARDLINK:
          hardlink(e, pfd, base);
          break;
        case NODE:
          owned(pfd, base, e, uid, gid, node(e, pfd, base, uid, gid));
          break;
        case FILE:
          file(tar, e, pfd, base, uid, gid);
          owned(pfd, base, e, uid, gid, e.getMode());
          break;
        default:
          throw new UnsafeLayerException(
              "layer " + layer + ": entry `" + name + "` has unsupported type `" + (char) e.getLinkFlag() + "`");
      }
    } finally {
      if (pfd != rootFd) {
        closeFd(pfd);
      }
    }
  }

  /**
   * Lists an entry of a rootless unpack whose tar header names an owner other than root (the entry
   * is the unpacking user's on disk), by its real path in the layer ({@code .} for the root, given
   * as {@code pfd} -1): a name through a symlinked parent is listed where it landed, so the list
   * never passes through a symlink. Owners beyond 2^31-1 are refused: no subordinate range reaches
   * them and the list holds signed 32-bit ids.
   */
  private void owned(int pfd, String base, TarArchiveEntry e, long uid, long gid, int mode) throws IOException {
    if (!rootless || (uid == 0 && gid == 0)) {
      return;
    }
    if (uid > Integer.MAX_VALUE || gid > Integer.MAX_VALUE || uid < 0 || gid < 0) {
      throw new UnsafeLayerException("layer " + layer + ": entry `" + e.getName() + "`: owner " + uid + ":" + gid
          + " is beyond 2147483647 and cannot be mapped by a rootless store");
    }
    String path;
    if (pfd < 0) {
      path = ".";
    } else {
      String dir = pfd == rootFd ? "" : relative(pfd);
      path = dir.isEmpty() ? base : dir + "/" + base;
    }
    owners.add(new LayerOwners.Entry(path, (int) uid, (int) gid, mode & 07777));
  }

  private enum Kind { DIR, FILE, SYMLINK, HARDLINK, NODE, OTHER }

  /** Classifies by the type flag first (a symlink named {@code x/} is a symlink, not a directory). */
  private static Kind kind(TarArchiveEntry e) {
    switch (e.getLinkFlag()) {
      case TarArchiveEntry.LF_SYMLINK:
        return Kind.SYMLINK;
      case TarArchiveEntry.LF_LINK:
        return Kind.HARDLINK;
      case TarArchiveEntry.LF_CHR:
      case TarArchiveEntry.LF_BLK:
      case TarArchiveEntry.LF_FIFO:
        return Kind.NODE;
      case TarArchiveEntry.LF_DIR:
        return Kind.DIR;
      case TarArchiveEntry.LF_NORMAL:
      case TarArchiveEntry.LF_OLDNORM:
      case TarArchiveEntry.LF_CONTIG:
        return e.getName().endsWith("/") ? Kind.DIR : Kind.FILE;
      default:
        return Kind.OTHER;
    }
  }

  private void rootEntry(TarArchiveEntry e, Map<String, byte[]> xattrs) throws IOException {
    if (kind(e) != Kind.DIR) {
      throw new UnsafeLayerException(
          "layer " + layer + ": entry `" + e.getName() + "`: refusing to change type of root directory (CVE-2021-29136)");
    }
    int fd = openat(rootFd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
    try {
      meta(fd, e, "/", xattrs, true);
    } finally {
      closeFd(fd);
    }
    FileTime t = e.getLastModifiedTime();
    dirTimes.add(new DirTime("", sec(t), nsec(t), rootless ? e.getMode() & 07777 : -1));
  }

  /** Resolves (and with create, makes) the parent directory inside the root; returns an O_PATH fd. */
  private int openParent(List<String> parent, boolean create, String name) throws IOException {
    if (parent.isEmpty()) {
      return rootFd;
    }
    String path = join(parent, parent.size());
    try {
      return openat2(rootFd, path, O_PATH | O_DIRECTORY | O_CLOEXEC, RESOLVE);
    } catch (ErrnoException ex) {
      if (ex.errno() == ENOTDIR) {
        throw new UnsafeLayerException(
            "layer " + layer + ": entry `" + name + "`: a parent is not a directory");
      }
      if (ex.errno() != ENOENT || !create) {
        throw parentError(name, ex);
      }
    }
    int prev = rootFd;
    try {
      for (int k = 1; k <= parent.size(); k++) {
        String p = join(parent, k);
        int fd;
        try {
          fd = openat2(rootFd, p, O_PATH | O_DIRECTORY | O_CLOEXEC, RESOLVE);
        } catch (ErrnoException ex) {
          if (ex.errno() != ENOENT) {
            throw parentError(name, ex);
          }
          try {
            mkdirat(prev, parent.get(k - 1), 0755);
          } catch (ErrnoException mk) {
            throw new UnsafeLayerException(
                "layer " + layer + ": entry `" + name + "`: cannot create parent `" + p + "` (dangling symlink?): " + mk.getMessage());
          }
          fd = openat2(rootFd, p, O_PATH | O_DIRECTORY | O_CLOEXEC, RESOLVE);
        }
        if (prev != rootFd) {
          closeFd(prev);
        }
        prev = fd;
      }
      int r = prev;
      prev = rootFd;
      return r;
    } finally {
      if (prev != rootFd) {
        closeFd(prev);
      }
    }
  }

  private ImageException parentError(String name, ErrnoException ex) {
    return new UnsafeLayerException("layer " + layer + ": entry `" + name + "`: cannot resolve parent: " + ex.getMessage());
  }

  /**
   * Creation calls never replace anything (O_EXCL, mkdirat, symlinkat, mknodat, linkat all fail
   * with EEXIST), so an existing name is detected by the create itself, with no separate lookup.
   * Throws the (unchecked) conflict; returns any other error for the caller to throw.
   */
  private IOException conflictOr(ErrnoException ex, String name) {
    if (ex.errno() == EEXIST) {
      throw new UnsafeLayerException(
          "layer " + layer + ": entry `" + name + "` conflicts with an earlier entry of the same layer at that path");
    }
    return ex;
  }

  private void directory(TarArchiveEntry e, int pfd, String base, String key, Map<String, byte[]> xattrs)
      throws IOException {
    int made = tryMkdirat(pfd, base, 0700);
    if (made != 0 && made != EEXIST) {
      throw new ImageException("layer " + layer + ": directory `" + e.getName() + "`: mkdirat failed, errno " + made);
    }
    int fd = tryOpenat(pfd, base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC, 0);
    if (fd < 0) {
      // an existing symlink (ELOOP) or non-directory (ENOTDIR) of this layer
      throw new UnsafeLayerException(
          "layer " + layer + ": directory entry `" + e.getName() + "` conflicts with an earlier non-directory entry");
    }
    String at = key;
    try {
      meta(fd, e, e.getName(), xattrs, true);
      if (rootless) {
        at = relative(fd); // where it landed: the final pass orders by real depth
      }
    } finally {
      closeFd(fd);
    }
    FileTime t = e.getLastModifiedTime();
    dirTimes.add(new DirTime(at, sec(t), nsec(t), rootless ? e.getMode() & 07777 : -1));
  }

  private void file(XattrTarInputStream tar, TarArchiveEntry e, int pfd, String base, long uid, long gid)
      throws IOException {
    String name = e.getName();
    long size = e.getSize();
    if (size < 0) {
      throw new UnsafeLayerException("layer " + layer + ": entry `" + name + "` has a negative size");
    }
    if (size > limits.maxEntryBytes()) {
      throw new LimitExceededException(
          "layer " + layer + ": entry `" + name + "` is " + size + " bytes, over the per-entry budget of "
              + limits.maxEntryBytes() + " bytes");
    }
    if (written + size > limits.maxTotalBytes()) {
      throw new LimitExceededException(
          "layer " + layer + ": entry `" + name + "` would bring the bytes written to " + (written + size)
              + ", over the budget of " + limits.maxTotalBytes() + " bytes (" + written + " written so far)");
    }
    int fd;
    try {
      fd = openat(pfd, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    } catch (ErrnoException ex) {
      throw conflictOr(ex, name);
    }
    try {
      long left = size;
      while (left > 0) {
        int n = tar.read(buf, 0, (int) Math.min(buf.length, left));
        if (n < 0) {
          throw new UnsafeLayerException("layer " + layer + ": entry `" + name + "` is truncated");
        }
        writeFully(fd, buf, n, name);
        left -= n;
        written += n;
        if (written > limits.maxTotalBytes()) {
          throw new LimitExceededException("layer " + layer + ": wrote " + written + " bytes, over the budget of "
              + limits.maxTotalBytes() + " bytes");
        }
      }
      meta(fd, e, name, tar.xattrs(), false);
      FileTime t = e.getLastModifiedTime();
      futimens(fd, sec(t), nsec(t), name);
    } finally {
      closeFd(fd);
    }
  }

  private void hardlink(TarArchiveEntry e, int pfd, String base) throws IOException {
    String name = e.getName();
    List<String> target = clean(e.getLinkName(), layer);
    if (target.isEmpty()) {
      throw new UnsafeLayerException("layer " + layer + ": hardlink `" + name + "` points at the root directory");
    }
    int tfd;
    try {
      tfd = openParent(target.subList(0, target.size() - 1), false, name);
    } catch (ImageException ex) {
      throw new UnsafeLayerException(
          "layer " + layer + ": hardlink `" + name + "` -> `" + e.getLinkName() + "`: target is not in this layer");
    }
    try {
      String tbase = target.get(target.size() - 1);
      try {
        linkat(tfd, tbase, pfd, base);
      } catch (ErrnoException ex) {
        if (ex.errno() == ENOENT) {
          throw new UnsafeLayerException(
              "layer " + layer + ": hardlink `" + name + "` -> `" + e.getLinkName() + "`: target is not in this layer");
        }
        if (ex.errno() == EPERM) {
          throw new UnsafeLayerException(
              "layer " + layer + ": hardlink `" + name + "` -> `" + e.getLinkName() + "`: target is a directory");
        }
        throw conflictOr(ex, name);
      }
      // no chmod/chown/utimes: the link shares the target's inode (CVE-2021-32760)
    } finally {
      if (tfd != rootFd) {
        closeFd(tfd);
      }
    }
  }

  /** Makes a FIFO or device node; returns the permission bits it has. */
  private int node(TarArchiveEntry e, int pfd, String base, long uid, long gid) throws IOException {
    String name = e.getName();
    int type;
    long dev = 0;
    if (e.isFIFO()) {
      type = S_IFIFO;
    } else {
      type = e.isCharacterDevice() ? S_IFCHR : S_IFBLK;
      long major = e.getDevMajor();
      long minor = e.getDevMinor();
      if (major < 0 || minor < 0 || major > 0xfff || minor > 0xfffff) {
        throw new UnsafeLayerException(
            "layer " + layer + ": device `" + name + "` has out-of-range numbers " + major + ":" + minor);
      }
      if (rootless) {
        devicePlaceholder(e, pfd, base);
        return 0;
      }
      dev = makedev(major, minor);
    }
    try {
      mknodat(pfd, base, type | (e.getMode() & 0777), dev);
    } catch (ErrnoException ex) {
      throw conflictOr(ex, name);
    }
    if (!rootless) {
      lchownat(pfd, base, (int) uid, (int) gid);
    }
    lchmodat(pfd, base, e.getMode() & 07777);
    FileTime t = e.getLastModifiedTime();
    lutimensat(pfd, base, sec(t), nsec(t));
    return e.getMode();
  }

  /**
   * A device node in a rootless unpack: an empty regular file of mode 0 at its name, as rootless
   * podman's storage makes it (an unprivileged user cannot make device nodes, and a container in
   * a user namespace could not open one anyway).
   */
  private void devicePlaceholder(TarArchiveEntry e, int pfd, String base) throws IOException {
    if (!loggedDevice) {
      LOG.debug("layer {}: rootless store: device nodes (first: `{}`) become empty files of mode 0", layer, e.getName());
      loggedDevice = true;
    }
    int fd;
    try {
      fd = openat(pfd, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0);
    } catch (ErrnoException ex) {
      throw conflictOr(ex, e.getName());
    }
    try {
      fchmod(fd, 0, e.getName());
      FileTime t = e.getLastModifiedTime();
      futimens(fd, sec(t), nsec(t), e.getName());
    } finally {
      closeFd(fd);
    }
  }

  private void whiteout(TarArchiveEntry e, List<String> parent, String base) throws IOException {
    String name = e.getName();
    if (base.equals(OPAQUE)) {
      opaque(parent, name);
      return;
    }
    if (base.startsWith(WH_META)) {
      LOG.debug("layer {}: ignoring aufs metadata entry `{}`", layer, name);
      return;
    }
    String target = base.substring(WH.length());
    if (target.isEmpty() || target.equals(".") || target.equals("..")) {
      throw new UnsafeLayerException("layer " + layer + ": invalid whiteout entry `" + name + "`");
    }
    int pfd = openParent(parent, true, name);
    try {
      String dir = relative(pfd);
      if (underOpaque(dir)) {
        LOG.debug("layer {}: dropping whiteout `{}` inside an opaque directory", layer, name);
        return;
      }
      try {
        mknodat(pfd, target, S_IFCHR, 0);
      } catch (ErrnoException ex) {
        IOException other = conflictOr(ex, name);
        if (rootless && ex.errno() == EPERM) {
          throw new ImageException("layer " + layer + ": whiteout `" + name + "`: " + ex.getMessage()
              + " (an unprivileged overlay whiteout, a 0:0 char device, needs Linux 5.8 or later)", ex);
        }
        throw other;
      }
      if (!rootless) {
        lchownat(pfd, target, 0, 0);
      }
      whiteouts.computeIfAbsent(dir, k -> new ArrayList<>()).add(target);
    } finally {
      if (pfd != rootFd) {
        closeFd(pfd);
      }
    }
  }

  private boolean underOpaque(String dir) {
    String d = dir;
    while (true) {
      if (opaqueDirs.contains(d)) {
        return true;
      }
      if (d.isEmpty()) {
        return false;
      }
      int i = d.lastIndexOf('/');
      d = i < 0 ? "" : d.substring(0, i);
    }
  }

  private void opaque(List<String> parent, String name) throws IOException {
    int pfd = openParent(parent, true, name);
    int fd = -1;
    try {
      fd = parent.isEmpty()
          ? openat(rootFd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0)
          : openat2(rootFd, join(parent, parent.size()), O_RDONLY | O_DIRECTORY | O_CLOEXEC, RESOLVE);
      // a rootless store's layers are mounted with userxattr, where overlayfs reads user.overlay.*
      String opaqueXattr = rootless ? "user.overlay.opaque" : "trusted.overlay.opaque";
      try {
        fsetxattr(fd, opaqueXattr, new byte[] {'y'}, name);
      } catch (ErrnoException ex) {
        throw new ImageException("layer " + layer + ": opaque whiteout `" + name + "`: " + ex.getMessage()
            + (rootless ? " (the store's file system must support user.* xattrs)"
                : " (trusted.* xattrs need CAP_SYS_ADMIN)"), ex);
      }
      String dir = relative(fd);
      opaqueDirs.add(dir);
      // drop plain whiteouts this layer already wrote under the now opaque directory
      for (var it = whiteouts.entrySet().iterator(); it.hasNext(); ) {
        var w = it.next();
        String wd = w.getKey();
        if (!(wd.equals(dir) || dir.isEmpty() || wd.startsWith(dir + "/"))) {
          continue;
        }
        int wfd = wd.isEmpty() ? rootFd : openat2(rootFd, wd, O_PATH | O_DIRECTORY | O_CLOEXEC, RESOLVE);
        try {
          for (String n : w.getValue()) {
            Stat st = lstatatOrNull(wfd, n);
            if (st != null && st.isWhiteout()) {
              unlinkat(wfd, n, 0);
            }
          }
        } finally {
          if (wfd != rootFd) {
            closeFd(wfd);
          }
        }
        it.remove();
      }
    } finally {
      if (fd >= 0) {
        closeFd(fd);
      }
      if (pfd != rootFd) {
        closeFd(pfd);
      }
    }
  }

  /** The path of an fd relative to the layer root ("" for the root). */
  private String relative(int fd) throws IOException {
    String real = realPath(fd);
    if (real.equals(rootReal)) {
      return "";
    }
    if (!real.startsWith(rootReal + "/")) {
      throw new UnsafeLayerException("layer " + layer + ": resolved outside the layer: " + real);
    }
    return real.substring(rootReal.length() + 1);
  }

  private static String realPath(int fd) throws IOException {
    return readlink("/proc/self/fd/" + fd);
  }

  /**
   * Owner, mode and xattrs on an fd of a regular file or directory (owner first: chown clears
   * setuid and security.capability; xattrs last: a POSIX ACL sets the group bits to its mask, as
   * the tar's mode already says). Xattr values are the bytes the pax records hold.
   */
  private void meta(int fd, TarArchiveEntry e, String name, Map<String, byte[]> xattrs, boolean dir)
      throws IOException {
    if (!rootless) {
      fchown(fd, (int) e.getLongUserId(), (int) e.getLongGroupId(), name);
    }
    // an unprivileged user keeps rwx on a directory until its entries are in (a 0555 /usr/bin);
    // its own mode is set at the end
    fchmod(fd, (e.getMode() & 07777) | (rootless && dir ? 0700 : 0), name);
    for (Map.Entry<String, byte[]> x : xattrs.entrySet()) {
      String attr = escapeXattr(x.getKey());
      if (attr == null) {
        LOG.debug("layer {}: entry `{}`: dropping xattr {}", layer, name, x.getKey());
        continue;
      }
      if (rootless && privilegedXattr(attr)) {
        droppedXattrs.add(x.getKey());
        continue;
      }
      try {
        fsetxattr(fd, attr, x.getValue(), name);
      } catch (ErrnoException ex) {
        if (ex.errno() == EOPNOTSUPP || ex.errno() == EPERM) {
          if (!warnedXattr) {
            LOG.warn("layer {}: xattrs not supported here, dropping ({})", layer, ex.getMessage());
            warnedXattr = true;
          }
        } else {
          throw ex;
        }
      }
    }
  }

  /**
   * Overlay xattrs supplied by an image could steer overlayfs (opaque, redirect, metacopy); they are
   * escaped as Linux 6.7 does ({@code trusted.overlay.X} becomes {@code trusted.overlay.overlay.X},
   * likewise {@code user.overlay.}), so overlayfs shows them to the container unchanged and never
   * acts on them. Only user.*, trusted.*, security.capability and POSIX ACLs are written; null means drop.
   */
  public static String escapeXattr(String attr) {
    if (attr.startsWith("trusted.overlay.")) {
      return "trusted.overlay.overlay." + attr.substring("trusted.overlay.".length());
    }
    if (attr.startsWith("user.overlay.")) {
      return "user.overlay.overlay." + attr.substring("user.overlay.".length());
    }
    if (attr.startsWith("user.") || attr.startsWith("trusted.") || attr.equals("security.capability")
        || attr.equals("system.posix_acl_access") || attr.equals("system.posix_acl_default")) {
      return attr;
    }
    return null;
  }

  /** The xattrs only a privileged process can set: trusted.* and file capabilities. */
  static boolean privilegedXattr(String attr) {
    return attr.startsWith("trusted.") || attr.equals("security.capability");
  }

  private static long sec(FileTime t) {
    Instant i = t.toInstant();
    return i.getEpochSecond();
  }

  private static long nsec(FileTime t) {
    return t.toInstant().getNano();
  }
}
