package dev.berth.image.internal.linux;

import com.sun.jna.Memory;
import com.sun.jna.Native;
import com.sun.jna.NativeLibrary;
import com.sun.jna.Pointer;
import dev.berth.linux.internal.LinuxConstants;
import java.nio.charset.StandardCharsets;

/**
 * The fd-relative file system calls the layer unpacker needs, bound with JNA. This is the only
 * class of the module that touches JNA. Paths are passed as NUL-terminated UTF-8 byte arrays so the
 * JVM's locale cannot mangle them. The constants' values come from {@link LinuxConstants}, per
 * architecture and checked against the C headers in the build.
 */
public final class LinuxFs {
  private LinuxFs() {}

  // Direct mapping (Native.register): far cheaper per call than interface proxies, and errno is
  // read with Native.getLastError() so failed calls cost no exception on the hot path.
  static {
    Native.register(NativeLibrary.getInstance("c"));
  }

  private static native long syscall(long number, int dirfd, byte[] path, Pointer how, long size);

  private static native int openat(int dirfd, byte[] path, int flags, int mode);

  private static native int close(int fd);

  private static native int mkdirat(int dirfd, byte[] path, int mode);

  private static native int mknodat(int dirfd, byte[] path, int mode, long dev);

  private static native int symlinkat(byte[] target, int newdirfd, byte[] linkpath);

  private static native int linkat(int olddirfd, byte[] oldpath, int newdirfd, byte[] newpath, int flags);

  private static native int unlinkat(int dirfd, byte[] path, int flags);

  private static native int fchown(int fd, int uid, int gid);

  private static native int fchownat(int dirfd, byte[] path, int uid, int gid, int flags);

  private static native int fchmod(int fd, int mode);

  private static native int fchmodat(int dirfd, byte[] path, int mode, int flags);

  private static native int futimens(int fd, Pointer times);

  private static native int utimensat(int dirfd, byte[] path, Pointer times, int flags);

  private static native int fsetxattr(int fd, byte[] name, byte[] value, long size, int flags);

  private static native long write(int fd, Pointer buf, long count);

  private static native long read(int fd, Pointer buf, long count);

  private static native int statx(int dirfd, byte[] path, int flags, int mask, Pointer buf);

  private static native int syncfs(int fd);

  private static native int fsync(int fd);

  private static native long lgetxattr(byte[] path, byte[] name, byte[] value, long size);

  private static native Pointer strerror(int errnum);

  private static native long readlink(byte[] path, byte[] buf, long size);

  private static final ThreadLocal<Memory> SCRATCH = ThreadLocal.withInitial(() -> new Memory(256));

  private static final ThreadLocal<Memory> TIMES = ThreadLocal.withInitial(() -> new Memory(32));

  public static final int AT_FDCWD = LinuxConstants.AT_FDCWD;
  public static final int O_RDONLY = LinuxConstants.O_RDONLY;
  public static final int O_WRONLY = LinuxConstants.O_WRONLY;
  public static final int O_CREAT = LinuxConstants.O_CREAT;
  public static final int O_EXCL = LinuxConstants.O_EXCL;
  public static final int O_DIRECTORY = LinuxConstants.O_DIRECTORY;
  public static final int O_NOFOLLOW = LinuxConstants.O_NOFOLLOW;
  public static final int O_CLOEXEC = LinuxConstants.O_CLOEXEC;
  public static final int O_PATH = LinuxConstants.O_PATH;
  public static final int AT_SYMLINK_NOFOLLOW = LinuxConstants.AT_SYMLINK_NOFOLLOW;
  public static final int AT_REMOVEDIR = LinuxConstants.AT_REMOVEDIR;
  public static final long RESOLVE_NO_XDEV = LinuxConstants.RESOLVE_NO_XDEV;
  public static final long RESOLVE_NO_MAGICLINKS = LinuxConstants.RESOLVE_NO_MAGICLINKS;
  public static final long RESOLVE_NO_SYMLINKS = LinuxConstants.RESOLVE_NO_SYMLINKS;
  public static final long RESOLVE_BENEATH = LinuxConstants.RESOLVE_BENEATH;
  public static final long RESOLVE_IN_ROOT = LinuxConstants.RESOLVE_IN_ROOT;
  public static final int O_NONBLOCK = LinuxConstants.O_NONBLOCK;
  public static final int O_NOCTTY = LinuxConstants.O_NOCTTY;
  private static final long SYS_OPENAT2 = LinuxConstants.SYS_OPENAT2;
  private static final int AT_EMPTY_PATH = LinuxConstants.AT_EMPTY_PATH;
  private static final int STATX_BASIC_STATS = LinuxConstants.STATX_BASIC_STATS;

  public static final int S_IFMT = LinuxConstants.S_IFMT;
  public static final int S_IFDIR = LinuxConstants.S_IFDIR;
  public static final int S_IFREG = LinuxConstants.S_IFREG;
  public static final int S_IFLNK = LinuxConstants.S_IFLNK;
  public static final int S_IFCHR = LinuxConstants.S_IFCHR;
  public static final int S_IFBLK = LinuxConstants.S_IFBLK;
  public static final int S_IFIFO = LinuxConstants.S_IFIFO;

  public static final int ENOENT = LinuxConstants.ENOENT;
  public static final int EEXIST = LinuxConstants.EEXIST;
  public static final int ENOTDIR = LinuxConstants.ENOTDIR;
  public static final int EXDEV = LinuxConstants.EXDEV;
  public static final int ELOOP = LinuxConstants.ELOOP;
  public static final int EAGAIN = LinuxConstants.EAGAIN;
  public static final int ENOSYS = LinuxConstants.ENOSYS;
  public static final int EOPNOTSUPP = LinuxConstants.EOPNOTSUPP;
  public static final int EPERM = LinuxConstants.EPERM;
  private static final int EINTR = LinuxConstants.EINTR;
  private static final int ENODATA = LinuxConstants.ENODATA;
  private static final int ENAMETOOLONG = LinuxConstants.ENAMETOOLONG;

  /** The result of statx (the fields we use). */
  public record Stat(int mode, long ino, int uid, int gid, int rdevMajor, int rdevMinor, int devMajor, int devMinor) {
    public int type() {
      return mode & S_IFMT;
    }

    public boolean isDir() {
      return type() == S_IFDIR;
    }

    public boolean isWhiteout() {
      return type() == S_IFCHR && rdevMajor == 0 && rdevMinor == 0;
    }
  }

  /** Binds libc now (this class's initialisation), so that a first real call does not wait for it; then nothing. */
  public static void bind() {
    // the static initialiser did it
  }

  static byte[] c(String s) {
    byte[] b = s.getBytes(StandardCharsets.UTF_8);
    byte[] r = new byte[b.length + 1];
    System.arraycopy(b, 0, r, 0, b.length);
    return r;
  }

  private static ErrnoException err(String op, String operand, int errno) {
    String msg;
    try {
      Pointer p = strerror(errno);
      msg = p == null ? "error" : p.getString(0);
    } catch (RuntimeException ignored) {
      msg = "error";
    }
    return new ErrnoException(op, operand, errno, msg);
  }

  private static int check(int r, String op, String operand) throws ErrnoException {
    if (r < 0) {
      throw err(op, operand, Native.getLastError());
    }
    return r;
  }

  /** openat2(dirfd, path, flags, resolve). Requires Linux 5.6. */
  public static int openat2(int dirfd, String path, int flags, long resolve) throws ErrnoException {
    Memory how = SCRATCH.get();
    how.setLong(0, flags & 0xffffffffL);
    how.setLong(8, 0);
    how.setLong(16, resolve);
    byte[] p = c(path);
    while (true) {
      long r = syscall(SYS_OPENAT2, dirfd, p, how, 24);
      if (r >= 0) {
        return (int) r;
      }
      int errno = Native.getLastError();
      if (errno == ENOSYS) {
        throw new ErrnoException("openat2", path, errno, "openat2 needs Linux 5.6 or later");
      }
      if (errno != EAGAIN) { // RESOLVE_IN_ROOT may ask to retry after a concurrent rename
        throw err("openat2", path, errno);
      }
    }
  }

  public static int openat(int dirfd, String path, int flags, int mode) throws ErrnoException {
    return check(openat(dirfd, c(path), flags, mode), "openat", path);
  }

  /** openat returning {@code -errno} instead of throwing. */
  public static int tryOpenat(int dirfd, String path, int flags, int mode) {
    int r = openat(dirfd, c(path), flags, mode);
    return r >= 0 ? r : -Native.getLastError();
  }

  public static void closeFd(int fd) {
    close(fd);
  }

  public static void mkdirat(int dirfd, String name, int mode) throws ErrnoException {
    check(mkdirat(dirfd, c(name), mode), "mkdirat", name);
  }

  /** mkdirat returning 0 or an errno. */
  public static int tryMkdirat(int dirfd, String name, int mode) {
    return mkdirat(dirfd, c(name), mode) == 0 ? 0 : Native.getLastError();
  }

  /** Linux dev_t encoding (glibc makedev). */
  public static long makedev(long major, long minor) {
    return ((major & 0xfffff000L) << 32)
        | ((major & 0xfffL) << 8)
        | ((minor & 0xffffff00L) << 12)
        | (minor & 0xffL);
  }

  public static void mknodat(int dirfd, String name, int mode, long dev) throws ErrnoException {
    check(mknodat(dirfd, c(name), mode, dev), "mknodat", name);
  }

  public static void symlinkat(String target, int dirfd, String name) throws ErrnoException {
    check(symlinkat(c(target), dirfd, c(name)), "symlinkat", name);
  }

  public static void linkat(int olddirfd, String oldname, int newdirfd, String newname) throws ErrnoException {
    // flags 0: never follow a symlink target (the link names the symlink itself)
    check(linkat(olddirfd, c(oldname), newdirfd, c(newname), 0), "linkat", newname + " -> " + oldname);
  }

  public static void unlinkat(int dirfd, String name, int flags) throws ErrnoException {
    check(unlinkat(dirfd, c(name), flags), "unlinkat", name);
  }

  public static void fchown(int fd, int uid, int gid, String what) throws ErrnoException {
    check(fchown(fd, uid, gid), "fchown", what);
  }

  public static void lchownat(int dirfd, String name, int uid, int gid) throws ErrnoException {
    check(fchownat(dirfd, c(name), uid, gid, AT_SYMLINK_NOFOLLOW), "fchownat", name);
  }

  public static void fchmod(int fd, int mode, String what) throws ErrnoException {
    check(fchmod(fd, mode), "fchmod", what);
  }

  /** chmod of a non-symlink name in dirfd, never following a symlink. */
  public static void lchmodat(int dirfd, String name, int mode) throws ErrnoException {
    check(fchmodat(dirfd, c(name), mode, AT_SYMLINK_NOFOLLOW), "fchmodat", name);
  }

  private static Memory times(long sec, long nsec) {
    Memory t = TIMES.get();
    t.setLong(0, sec);
    t.setLong(8, nsec);
    t.setLong(16, sec);
    t.setLong(24, nsec);
    return t;
  }

  public static void futimens(int fd, long sec, long nsec, String what) throws ErrnoException {
    check(futimens(fd, times(sec, nsec)), "futimens", what);
  }

  public static void lutimensat(int dirfd, String name, long sec, long nsec) throws ErrnoException {
    check(utimensat(dirfd, c(name), times(sec, nsec), AT_SYMLINK_NOFOLLOW), "utimensat", name);
  }

  public static void fsetxattr(int fd, String name, byte[] value, String what) throws ErrnoException {
    check(fsetxattr(fd, c(name), value, value.length, 0), "fsetxattr " + name, what);
  }

  /**
   * Reads the whole file behind {@code fd} if it is at most {@code max} bytes; returns null when it
   * is larger (the caller refuses it), never reading more than {@code max + 1} bytes.
   */
  public static byte[] readBounded(int fd, int max, String what) throws ErrnoException {
    Memory m = new Memory(Math.max(1, max + 1L));
    long off = 0;
    while (off <= max) {
      long n = read(fd, m.share(off), max + 1L - off);
      if (n < 0) {
        int errno = Native.getLastError();
        if (errno == EINTR) {
          continue;
        }
        throw err("read", what, errno);
      }
      if (n == 0) {
        return m.getByteArray(0, (int) off);
      }
      off += n;
    }
    return null;
  }

  private static final int IO_CHUNK = 1 << 20;
  private static final ThreadLocal<Memory> IO = ThreadLocal.withInitial(() -> new Memory(IO_CHUNK));

  /** Writes {@code len} bytes of {@code buf} (through a per-thread native buffer, no per-call allocation). */
  public static void writeFully(int fd, byte[] buf, int len, String what) throws ErrnoException {
    Memory m = IO.get();
    int off = 0;
    while (off < len) {
      int n = Math.min(IO_CHUNK, len - off);
      m.write(0, buf, off, n);
      writeFully(fd, m, n, what);
      off += n;
    }
  }

  /** Writes all of {@code len} bytes from {@code buf}. */
  private static void writeFully(int fd, Pointer buf, long len, String what) throws ErrnoException {
    long off = 0;
    while (off < len) {
      long n = write(fd, off == 0 ? buf : buf.share(off), len - off);
      if (n < 0) {
        int errno = Native.getLastError();
        if (errno == EINTR) {
          continue;
        }
        throw err("write", what, errno);
      }
      off += n;
    }
  }

  private static Stat readStat(Memory buf) {
    return new Stat(
        buf.getShort(LinuxConstants.STATX_MODE_OFFSET) & 0xffff,
        buf.getLong(LinuxConstants.STATX_INO_OFFSET),
        buf.getInt(LinuxConstants.STATX_UID_OFFSET),
        buf.getInt(LinuxConstants.STATX_GID_OFFSET),
        buf.getInt(LinuxConstants.STATX_RDEV_MAJOR_OFFSET),
        buf.getInt(LinuxConstants.STATX_RDEV_MINOR_OFFSET),
        buf.getInt(LinuxConstants.STATX_DEV_MAJOR_OFFSET),
        buf.getInt(LinuxConstants.STATX_DEV_MINOR_OFFSET));
  }

  /** statx(dirfd, name, AT_SYMLINK_NOFOLLOW); empty name with AT_EMPTY_PATH stats dirfd itself. */
  public static Stat lstatat(int dirfd, String name) throws ErrnoException {
    Memory buf = SCRATCH.get();
    int flags = AT_SYMLINK_NOFOLLOW | (name.isEmpty() ? AT_EMPTY_PATH : 0);
    check(statx(dirfd, c(name), flags, STATX_BASIC_STATS, buf), "statx", name);
    return readStat(buf);
  }

  /** Like {@link #lstatat} but returns null when the name does not exist. */
  public static Stat lstatatOrNull(int dirfd, String name) throws ErrnoException {
    Memory buf = SCRATCH.get();
    int flags = AT_SYMLINK_NOFOLLOW | (name.isEmpty() ? AT_EMPTY_PATH : 0);
    if (statx(dirfd, c(name), flags, STATX_BASIC_STATS, buf) < 0) {
      int errno = Native.getLastError();
      if (errno == ENOENT) {
        return null;
      }
      throw err("statx", name, errno);
    }
    return readStat(buf);
  }

  /** The value of an xattr of {@code path} (not following a final symlink), or null when absent. */
  public static byte[] lgetxattr(String path, String name) throws ErrnoException {
    byte[] buf = new byte[65536];
    long n = lgetxattr(c(path), c(name), buf, buf.length);
    if (n < 0) {
      int errno = Native.getLastError();
      if (errno == ENODATA) {
        return null;
      }
      throw err("lgetxattr " + name, path, errno);
    }
    return java.util.Arrays.copyOf(buf, (int) n);
  }

  /** readlink(2), decoded as UTF-8 whatever the JVM's file-name encoding is. */
  public static String readlink(String path) throws ErrnoException {
    byte[] buf = new byte[4097];
    long n = readlink(c(path), buf, buf.length);
    if (n < 0) {
      throw err("readlink", path, Native.getLastError());
    }
    if (n >= buf.length) {
      throw new ErrnoException("readlink", path, ENAMETOOLONG, "link target too long");
    }
    return new String(buf, 0, (int) n, StandardCharsets.UTF_8);
  }

  public static void syncFs(int fd, String what) throws ErrnoException {
    check(syncfs(fd), "syncfs", what);
  }

  public static void fsync(int fd, String what) throws ErrnoException {
    check(fsync(fd), "fsync", what);
  }
}
