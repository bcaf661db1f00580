package dev.berth.cgroups.internal.linux;

import dev.berth.linux.internal.LinuxConstants;

/**
 * The system calls the cgroups module needs that the JDK does not offer. Real implementation:
 * {@link LinuxSyscalls} (JNA); tests use a recording fake. The constants' values come from
 * {@link LinuxConstants}, per architecture and checked against the C headers in the build.
 */
public interface Syscalls {
  long CGROUP2_SUPER_MAGIC = LinuxConstants.CGROUP2_SUPER_MAGIC;
  long CGROUP_SUPER_MAGIC = LinuxConstants.CGROUP_SUPER_MAGIC;
  long TMPFS_MAGIC = LinuxConstants.TMPFS_MAGIC;

  int SIGKILL = LinuxConstants.SIGKILL;
  int ESRCH = LinuxConstants.ESRCH;
  int IN_MODIFY = LinuxConstants.IN_MODIFY;
  int IN_IGNORED = LinuxConstants.IN_IGNORED;

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
