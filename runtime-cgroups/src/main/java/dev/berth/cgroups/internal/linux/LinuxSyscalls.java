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
  private static final int O_WRONLY = LinuxConstants.O_WRONLY;
  private static final int O_TRUNC = LinuxConstants.O_TRUNC;
  private static final int O_CLOEXEC = LinuxConstants.O_CLOEXEC;
  private static final int O_DIRECTORY = LinuxConstants.O_DIRECTORY;
  private static final long SYS_BPF = LinuxConstants.SYS_BPF;
  private static final int BPF_PROG_LOAD = LinuxConstants.BPF_PROG_LOAD;
  private static final int BPF_PROG_ATTACH = LinuxConstants.BPF_PROG_ATTACH;
  private static final int BPF_PROG_DETACH = LinuxConstants.BPF_PROG_DETACH;
  private static final int BPF_PROG_GET_FD_BY_ID = LinuxConstants.BPF_PROG_GET_FD_BY_ID;
  private static final int BPF_PROG_QUERY = LinuxConstants.BPF_PROG_QUERY;
  /** Bytes of union bpf_attr passed: more than any command here uses; the kernel wants the tail zero. */
  private static final int BPF_ATTR_SIZE = 128;
  private static final int VERIFIER_LOG_SIZE = 64 * 1024;

  interface LibC extends Library {
    int statfs(String path, Pointer buf);
    int kill(int pid, int sig);
    int inotify_init1(int flags);
    int inotify_add_watch(int fd, String path, int mask);
    int inotify_rm_watch(int fd, int wd);
    int poll(Pointer fds, NativeLong nfds, int timeout);
    NativeLong read(int fd, byte[] buf, NativeLong count);
    int close(int fd);
    int open(String path, int flags);
    NativeLong write(int fd, byte[] buf, NativeLong count);
    int mkdir(String path, int mode);
    int rmdir(String path);
    NativeLong syscall(NativeLong number, int cmd, Pointer attr, int size);
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

  @Override
  public void mkdir(String path, int mode) {
    if (libc.mkdir(path, mode) != 0) throw fail("mkdir(" + path + ")");
  }

  @Override
  public void rmdir(String path) {
    if (libc.rmdir(path) != 0) throw fail("rmdir(" + path + ")");
  }

  @Override
  public void writeFile(String path, byte[] data) {
    int fd = libc.open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
    if (fd < 0) throw fail("open(" + path + ")");
    try {
      long n;
      do {
        n = libc.write(fd, data, new NativeLong(data.length)).longValue();
      } while (n < 0 && Native.getLastError() == EINTR);
      if (n < 0) throw fail("write(" + path + ")");
      if (n != data.length) {
        // cgroupfs takes a value in one write or not at all: a short write means it was refused
        throw new SyscallException("write(" + path + ")", 0, "short write (" + n + " of " + data.length + " bytes)");
      }
    } finally {
      libc.close(fd);
    }
  }

  @Override
  public int openDirectory(String path) {
    int fd = libc.open(path, O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) throw fail("open(" + path + ")");
    return fd;
  }

  private long bpf(int cmd, Memory attr) {
    return libc.syscall(new NativeLong(SYS_BPF), cmd, attr, BPF_ATTR_SIZE).longValue();
  }

  @Override
  public int bpfProgLoad(int progType, byte[] insns, String license) {
    try (Memory attr = new Memory(BPF_ATTR_SIZE); Memory code = new Memory(insns.length);
        Memory lic = new Memory(license.length() + 1); Memory log = new Memory(VERIFIER_LOG_SIZE)) {
      attr.clear();
      code.write(0, insns, 0, insns.length);
      lic.setString(0, license, "US-ASCII");
      log.clear();
      attr.setInt(0, progType);
      attr.setInt(4, insns.length / 8);
      attr.setLong(8, Pointer.nativeValue(code));
      attr.setLong(16, Pointer.nativeValue(lic));
      // Without a log the first try, as loaders do: asking for one costs the verifier time.
      long fd = bpf(BPF_PROG_LOAD, attr);
      if (fd >= 0) return (int) fd;
      attr.setInt(24, 1); // log_level
      attr.setInt(28, VERIFIER_LOG_SIZE);
      attr.setLong(32, Pointer.nativeValue(log));
      fd = bpf(BPF_PROG_LOAD, attr);
      if (fd >= 0) return (int) fd;
      String call = "bpf(BPF_PROG_LOAD, " + insns.length / 8 + " instructions)";
      SyscallException e = fail(call);
      String verifier = log.getString(0, "US-ASCII").trim();
      if (verifier.isEmpty()) throw e;
      throw new SyscallException(call, e.errno(), e.errorText() + "; verifier: " + verifier.replace('\n', ' '));
    }
  }

  @Override
  public void bpfProgAttach(int targetFd, int progFd, int attachType, int flags) {
    try (Memory attr = new Memory(BPF_ATTR_SIZE)) {
      attr.clear();
      attr.setInt(0, targetFd);
      attr.setInt(4, progFd);
      attr.setInt(8, attachType);
      attr.setInt(12, flags);
      if (bpf(BPF_PROG_ATTACH, attr) < 0) throw fail("bpf(BPF_PROG_ATTACH, cgroup fd " + targetFd + ")");
    }
  }

  @Override
  public void bpfProgDetach(int targetFd, int progFd, int attachType) {
    try (Memory attr = new Memory(BPF_ATTR_SIZE)) {
      attr.clear();
      attr.setInt(0, targetFd);
      attr.setInt(4, progFd);
      attr.setInt(8, attachType);
      if (bpf(BPF_PROG_DETACH, attr) < 0) throw fail("bpf(BPF_PROG_DETACH, cgroup fd " + targetFd + ")");
    }
  }

  @Override
  public int[] bpfProgQuery(int targetFd, int attachType) {
    int capacity = 64; // BPF_CGROUP_MAX_PROGS
    try (Memory attr = new Memory(BPF_ATTR_SIZE); Memory ids = new Memory(4L * capacity)) {
      attr.clear();
      attr.setInt(0, targetFd);
      attr.setInt(4, attachType);
      attr.setLong(16, Pointer.nativeValue(ids));
      attr.setInt(24, capacity);
      if (bpf(BPF_PROG_QUERY, attr) < 0) throw fail("bpf(BPF_PROG_QUERY, cgroup fd " + targetFd + ")");
      return ids.getIntArray(0, attr.getInt(24));
    }
  }

  @Override
  public int bpfProgGetFdById(int id) {
    try (Memory attr = new Memory(BPF_ATTR_SIZE)) {
      attr.clear();
      attr.setInt(0, id);
      long fd = bpf(BPF_PROG_GET_FD_BY_ID, attr);
      if (fd < 0) throw fail("bpf(BPF_PROG_GET_FD_BY_ID, " + id + ")");
      return (int) fd;
    }
  }
}
