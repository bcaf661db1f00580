package dev.berth.cgroups.internal.linux;

/**
 * The system calls the cgroups module needs that the JDK does not offer. Real implementation:
 * {@link LinuxSyscalls} (JNA); tests use a recording fake.
 */
public interface Syscalls {
  long CGROUP2_SUPER_MAGIC = 0x63677270L;
  long CGROUP_SUPER_MAGIC = 0x27e0ebL;
  long TMPFS_MAGIC = 0x01021994L;

  int SIGKILL = 9;
  int ESRCH = 3;
  int IN_MODIFY = 0x00000002;
  int IN_IGNORED = 0x00008000;

  /** {@code statfs(path).f_type}. */
  long statfsType(String path);

  /** {@code kill(pid, sig)}; ESRCH is reported as false, other errors throw. */
  boolean kill(long pid, int signal);

  /** {@code inotify_init1(IN_NONBLOCK | IN_CLOEXEC)}. */
  int inotifyInit();

  int inotifyAddWatch(int fd, String path, int mask);

  void inotifyRmWatch(int fd, int wd);

  /** {@code poll} for POLLIN on one fd; true when readable. */
  boolean pollIn(int fd, int timeoutMillis);

  /** {@code read}; returns bytes read, 0 when it would block. */
  int read(int fd, byte[] buf);

  void close(int fd);
}
