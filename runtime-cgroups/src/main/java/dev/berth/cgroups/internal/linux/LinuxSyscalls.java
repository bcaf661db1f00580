package dev.berth.cgroups.internal.linux;

import com.sun.jna.Library;
import com.sun.jna.Memory;
import com.sun.jna.Native;
import com.sun.jna.NativeLong;
import com.sun.jna.Pointer;
import dev.berth.linux.internal.LinuxConstants;

/** {@link Syscalls} through JNA on glibc/musl. */
public final class LinuxSyscalls implements Syscalls {
  private static final int EAGAIN = LinuxConstants.EAGAIN;
  private static final int EINTR = LinuxConstants.EINTR;
  private static final int IN_NONBLOCK = LinuxConstants.IN_NONBLOCK;
  private static final int IN_CLOEXEC = LinuxConstants.IN_CLOEXEC;
  private static final short POLLIN = (short) LinuxConstants.POLLIN;

  interface LibC extends Library {
    int statfs(String path, Pointer buf);
    int kill(int pid, int sig);
    int inotify_init1(int flags);
    int inotify_add_watch(int fd, String path, int mask);
    int inotify_rm_watch(int fd, int wd);
    int poll(Pointer fds, NativeLong nfds, int timeout);
    NativeLong read(int fd, byte[] buf, NativeLong count);
    int close(int fd);
    String strerror(int errnum);
  }

  private static volatile LinuxSyscalls instance;
  private final LibC libc;

  private LinuxSyscalls() {
    this.libc = Native.load("c", LibC.class);
  }

  public static LinuxSyscalls get() {
    LinuxSyscalls s = instance;
    if (s == null) {
      synchronized (LinuxSyscalls.class) {
        if (instance == null) instance = new LinuxSyscalls();
        s = instance;
      }
    }
    return s;
  }

  private SyscallException fail(String call) {
    int errno = Native.getLastError();
    String text;
    try {
      text = libc.strerror(errno);
    } catch (RuntimeException e) {
      text = "errno " + errno;
    }
    return new SyscallException(call, errno, text);
  }

  @Override
  public long statfsType(String path) {
    try (Memory buf = new Memory(512)) {
      buf.clear();
      if (libc.statfs(path, buf) != 0) throw fail("statfs(" + path + ")");
      return Native.LONG_SIZE == 8 ? buf.getLong(0) : (buf.getInt(0) & 0xffffffffL);
    }
  }

  @Override
  public boolean kill(long pid, int signal) {
    if (pid <= 0 || pid > Integer.MAX_VALUE) throw new IllegalArgumentException("pid " + pid);
    if (libc.kill((int) pid, signal) == 0) return true;
    int errno = Native.getLastError();
    if (errno == ESRCH) return false;
    throw fail("kill(" + pid + ", " + signal + ")");
  }

  @Override
  public int inotifyInit() {
    int fd = libc.inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (fd < 0) throw fail("inotify_init1");
    return fd;
  }

  @Override
  public int inotifyAddWatch(int fd, String path, int mask) {
    int wd = libc.inotify_add_watch(fd, path, mask);
    if (wd < 0) throw fail("inotify_add_watch(" + path + ")");
    return wd;
  }

  @Override
  public void inotifyRmWatch(int fd, int wd) {
    libc.inotify_rm_watch(fd, wd); // EINVAL when the file is already gone: ignore
  }

  @Override
  public boolean pollIn(int fd, int timeoutMillis) {
    try (Memory pfd = new Memory(8)) {
      pfd.setInt(0, fd);
      pfd.setShort(4, POLLIN);
      pfd.setShort(6, (short) 0);
      int n = libc.poll(pfd, new NativeLong(1), timeoutMillis);
      if (n < 0) {
        if (Native.getLastError() == EINTR) return false;
        throw fail("poll");
      }
      return n > 0 && (pfd.getShort(6) & POLLIN) != 0;
    }
  }

  @Override
  public int read(int fd, byte[] buf) {
    long n = libc.read(fd, buf, new NativeLong(buf.length)).longValue();
    if (n < 0) {
      int errno = Native.getLastError();
      if (errno == EAGAIN || errno == EINTR) return 0;
      throw fail("read(" + fd + ")");
    }
    return (int) n;
  }

  @Override
  public void close(int fd) {
    libc.close(fd);
  }
}
