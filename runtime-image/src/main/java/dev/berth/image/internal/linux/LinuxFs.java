package dev.berth.image.internal.linux;

import com.sun.jna.LastErrorException;
import com.sun.jna.Library;
import com.sun.jna.Memory;
import com.sun.jna.Native;
import com.sun.jna.Pointer;
import java.nio.charset.StandardCharsets;
import java.util.Locale;

/**
 * The fd-relative file system calls the layer unpacker needs, bound with JNA. This is the only
 * class of the module that touches JNA. Paths are passed as NUL-terminated UTF-8 byte arrays so the
 * JVM's locale cannot mangle them.
 */
public final class LinuxFs {
  private LinuxFs() {}

  interface LibC extends Library {
    long syscall(long number, int dirfd, byte[] path, Pointer how, long size) throws LastErrorException;

    int openat(int dirfd, byte[] path, int flags, int mode) throws LastErrorException;

    int close(int fd) throws LastErrorException;

    int mkdirat(int dirfd, byte[] path, int mode) throws LastErrorException;

    int mknodat(int dirfd, byte[] path, int mode, long dev) throws LastErrorException;

    int symlinkat(byte[] target, int newdirfd, byte[] linkpath) throws LastErrorException;

    int linkat(int olddirfd, byte[] oldpath, int newdirfd, byte[] newpath, int flags)
        throws LastErrorException;

    int unlinkat(int dirfd, byte[] path, int flags) throws LastErrorException;

    int fchown(int fd, int uid, int gid) throws LastErrorException;

    int fchownat(int dirfd, byte[] path, int uid, int gid, int flags) throws LastErrorException;

    int fchmod(int fd, int mode) throws LastErrorException;

    int fchmodat(int dirfd, byte[] path, int mode, int flags) throws LastErrorException;

    int futimens(int fd, Pointer times) throws LastErrorException;

    int utimensat(int dirfd, byte[] path, Pointer times, int flags) throws LastErrorException;

    int fsetxattr(int fd, byte[] name, byte[] value, long size, int flags) throws LastErrorException;

    long write(int fd, Pointer buf, long count) throws LastErrorException;

    int statx(int dirfd, byte[] path, int flags, int mask, Pointer buf) throws LastErrorException;

    int syncfs(int fd) throws LastErrorException;

    long lgetxattr(byte[] path, byte[] name, byte[] value, long size) throws LastErrorException;

    int fsync(int fd) throws LastErrorException;

    String strerror(int errnum);

    int geteuid();
  }

  private static final LibC C = Native.load("c", LibC.class);
  private static final boolean AARCH64 =
      System.getProperty("os.arch").toLowerCase(Locale.ROOT).matches("aarch64|arm64");

  public static final int AT_FDCWD = -100;
  public static final int O_RDONLY = 0;
  public static final int O_WRONLY = 1;
  public static final int O_CREAT = 0100;
  public static final int O_EXCL = 0200;
  public static final int O_DIRECTORY = AARCH64 ? 040000 : 0200000;
  public static final int O_NOFOLLOW = AARCH64 ? 0100000 : 0400000;
  public static final int O_CLOEXEC = 02000000;
  public static final int O_PATH = 010000000;
  public static final int AT_SYMLINK_NOFOLLOW = 0x100;
  public static final int AT_REMOVEDIR = 0x200;
  public static final long RESOLVE_NO_XDEV = 0x01;
  public static final long RESOLVE_NO_MAGICLINKS = 0x02;
  public static final long RESOLVE_NO_SYMLINKS = 0x04;
  public static final long RESOLVE_BENEATH = 0x08;
  public static final long RESOLVE_IN_ROOT = 0x10;
  private static final long SYS_OPENAT2 = 437; // same number on every architecture

  public static final int S_IFMT = 0170000;
  public static final int S_IFDIR = 0040000;
  public static final int S_IFREG = 0100000;
  public static final int S_IFLNK = 0120000;
  public static final int S_IFCHR = 0020000;
  public static final int S_IFBLK = 0060000;
  public static final int S_IFIFO = 0010000;

  public static final int ENOENT = 2;
  public static final int EEXIST = 17;
  public static final int ENOTDIR = 20;
  public static final int EXDEV = 18;
  public static final int ELOOP = 40;
  public static final int EAGAIN = 11;
  public static final int ENOSYS = 38;
  public static final int EOPNOTSUPP = 95;
  public static final int EPERM = 1;

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

  public static boolean isRoot() {
    return C.geteuid() == 0;
  }

  static byte[] c(String s) {
    byte[] b = s.getBytes(StandardCharsets.UTF_8);
    byte[] r = new byte[b.length + 1];
    System.arraycopy(b, 0, r, 0, b.length);
    return r;
  }

  private static ErrnoException err(String op, String operand, LastErrorException e) {
    int errno = e.getErrorCode();
    String msg;
    try {
      msg = C.strerror(errno);
    } catch (RuntimeException ignored) {
      msg = "error";
    }
    return new ErrnoException(op, operand, errno, msg);
  }

  /** openat2(dirfd, path, flags, resolve). Requires Linux 5.6. */
  public static int openat2(int dirfd, String path, int flags, long resolve) throws ErrnoException {
    Memory how = new Memory(24);
    how.setLong(0, flags & 0xffffffffL);
    how.setLong(8, 0);
    how.setLong(16, resolve);
    while (true) {
      try {
        return (int) C.syscall(SYS_OPENAT2, dirfd, c(path), how, 24);
      } catch (LastErrorException e) {
        if (e.getErrorCode() == EAGAIN) {
          continue; // RESOLVE_IN_ROOT may ask to retry after a concurrent rename
        }
        throw err("openat2", path, e);
      }
    }
  }

  public static int openat(int dirfd, String path, int flags, int mode) throws ErrnoException {
    try {
      return C.openat(dirfd, c(path), flags, mode);
    } catch (LastErrorException e) {
      throw err("openat", path, e);
    }
  }

  public static void close(int fd) {
    try {
      C.close(fd);
    } catch (LastErrorException ignored) {
      // nothing useful to do
    }
  }

  public static void mkdirat(int dirfd, String name, int mode) throws ErrnoException {
    try {
      C.mkdirat(dirfd, c(name), mode);
    } catch (LastErrorException e) {
      throw err("mkdirat", name, e);
    }
  }

  /** Linux dev_t encoding (glibc makedev). */
  public static long makedev(long major, long minor) {
    return ((major & 0xfffff000L) << 32)
        | ((major & 0xfffL) << 8)
        | ((minor & 0xffffff00L) << 12)
        | (minor & 0xffL);
  }

  public static void mknodat(int dirfd, String name, int mode, long dev) throws ErrnoException {
    try {
      C.mknodat(dirfd, c(name), mode, dev);
    } catch (LastErrorException e) {
      throw err("mknodat", name, e);
    }
  }

  public static void symlinkat(String target, int dirfd, String name) throws ErrnoException {
    try {
      C.symlinkat(c(target), dirfd, c(name));
    } catch (LastErrorException e) {
      throw err("symlinkat", name, e);
    }
  }

  public static void linkat(int olddirfd, String oldname, int newdirfd, String newname)
      throws ErrnoException {
    try {
      C.linkat(olddirfd, c(oldname), newdirfd, c(newname), 0); // 0: never follow a symlink target
    } catch (LastErrorException e) {
      throw err("linkat", newname + " -> " + oldname, e);
    }
  }

  public static void unlinkat(int dirfd, String name, int flags) throws ErrnoException {
    try {
      C.unlinkat(dirfd, c(name), flags);
    } catch (LastErrorException e) {
      throw err("unlinkat", name, e);
    }
  }

  public static void fchown(int fd, int uid, int gid, String what) throws ErrnoException {
    try {
      C.fchown(fd, uid, gid);
    } catch (LastErrorException e) {
      throw err("fchown", what, e);
    }
  }

  public static void lchownat(int dirfd, String name, int uid, int gid) throws ErrnoException {
    try {
      C.fchownat(dirfd, c(name), uid, gid, AT_SYMLINK_NOFOLLOW);
    } catch (LastErrorException e) {
      throw err("fchownat", name, e);
    }
  }

  public static void fchmod(int fd, int mode, String what) throws ErrnoException {
    try {
      C.fchmod(fd, mode);
    } catch (LastErrorException e) {
      throw err("fchmod", what, e);
    }
  }

  /** chmod of a non-symlink name in dirfd, never following a symlink. */
  public static void lchmodat(int dirfd, String name, int mode) throws ErrnoException {
    try {
      C.fchmodat(dirfd, c(name), mode, AT_SYMLINK_NOFOLLOW);
    } catch (LastErrorException e) {
      throw err("fchmodat", name, e);
    }
  }

  private static Memory times(long sec, long nsec) {
    Memory t = new Memory(32);
    t.setLong(0, sec);
    t.setLong(8, nsec);
    t.setLong(16, sec);
    t.setLong(24, nsec);
    return t;
  }

  public static void futimens(int fd, long sec, long nsec, String what) throws ErrnoException {
    try {
      C.futimens(fd, times(sec, nsec));
    } catch (LastErrorException e) {
      throw err("futimens", what, e);
    }
  }

  public static void lutimensat(int dirfd, String name, long sec, long nsec) throws ErrnoException {
    try {
      C.utimensat(dirfd, c(name), times(sec, nsec), AT_SYMLINK_NOFOLLOW);
    } catch (LastErrorException e) {
      throw err("utimensat", name, e);
    }
  }

  public static void fsetxattr(int fd, String name, byte[] value, String what) throws ErrnoException {
    try {
      C.fsetxattr(fd, c(name), value, value.length, 0);
    } catch (LastErrorException e) {
      throw err("fsetxattr " + name, what, e);
    }
  }

  /** Writes all of {@code len} bytes from {@code buf}. */
  public static void writeFully(int fd, Pointer buf, long len, String what) throws ErrnoException {
    long off = 0;
    while (off < len) {
      try {
        long n = C.write(fd, buf.share(off), len - off);
        off += n;
      } catch (LastErrorException e) {
        if (e.getErrorCode() == 4) { // EINTR
          continue;
        }
        throw err("write", what, e);
      }
    }
  }

  /** statx(dirfd, name, AT_SYMLINK_NOFOLLOW); empty name with AT_EMPTY_PATH stats dirfd itself. */
  public static Stat lstatat(int dirfd, String name) throws ErrnoException {
    Memory buf = new Memory(256);
    int flags = AT_SYMLINK_NOFOLLOW | (name.isEmpty() ? 0x1000 : 0);
    try {
      C.statx(dirfd, c(name), flags, 0x7ff, buf);
    } catch (LastErrorException e) {
      throw err("statx", name, e);
    }
    return new Stat(
        buf.getShort(28) & 0xffff,
        buf.getLong(32),
        buf.getInt(20),
        buf.getInt(24),
        buf.getInt(128),
        buf.getInt(132),
        buf.getInt(136),
        buf.getInt(140));
  }

  /** Like {@link #lstatat} but returns null when the name does not exist. */
  public static Stat lstatatOrNull(int dirfd, String name) throws ErrnoException {
    try {
      return lstatat(dirfd, name);
    } catch (ErrnoException e) {
      if (e.errno() == ENOENT) {
        return null;
      }
      throw e;
    }
  }

  /** The value of an xattr of {@code path} (not following a final symlink), or null when absent. */
  public static byte[] lgetxattr(String path, String name) throws ErrnoException {
    byte[] buf = new byte[65536];
    try {
      long n = C.lgetxattr(c(path), c(name), buf, buf.length);
      return java.util.Arrays.copyOf(buf, (int) n);
    } catch (LastErrorException e) {
      if (e.getErrorCode() == 61) { // ENODATA
        return null;
      }
      throw err("lgetxattr " + name, path, e);
    }
  }

  public static void syncfs(int fd) throws ErrnoException {
    try {
      C.syncfs(fd);
    } catch (LastErrorException e) {
      throw err("syncfs", "fd " + fd, e);
    }
  }

  public static void fsync(int fd, String what) throws ErrnoException {
    try {
      C.fsync(fd);
    } catch (LastErrorException e) {
      throw err("fsync", what, e);
    }
  }
}
