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
  int EPERM = LinuxConstants.EPERM;
  int ENOENT = LinuxConstants.ENOENT;
  int ESRCH = LinuxConstants.ESRCH;
  int EACCES = LinuxConstants.EACCES;
  int EBUSY = LinuxConstants.EBUSY;
  int EEXIST = LinuxConstants.EEXIST;
  int EINVAL = LinuxConstants.EINVAL;
  int ENOTEMPTY = LinuxConstants.ENOTEMPTY;

  int BPF_PROG_TYPE_CGROUP_DEVICE = LinuxConstants.BPF_PROG_TYPE_CGROUP_DEVICE;
  int BPF_CGROUP_DEVICE = LinuxConstants.BPF_CGROUP_DEVICE;
  /** Several programs may run for one cgroup (a parent's and ours; systemd attaches this way too). */
  int BPF_F_ALLOW_MULTI = LinuxConstants.BPF_F_ALLOW_MULTI;
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

  /** {@code mkdir(path, mode)}. */
  void mkdir(String path, int mode);

  /** {@code rmdir(path)}. */
  void rmdir(String path);

  /** One {@code write(2)} of all of {@code data} to an existing file opened {@code O_WRONLY|O_TRUNC}. */
  void writeFile(String path, byte[] data);

  /** {@code open(path, O_RDONLY|O_DIRECTORY|O_CLOEXEC)}: a cgroup directory as a BPF attach target. */
  int openDirectory(String path);

  /**
   * {@code bpf(BPF_PROG_LOAD)}: returns the program's fd. A verifier rejection throws with the
   * verifier's log in the message.
   */
  int bpfProgLoad(int progType, byte[] insns, String license);

  /** {@code bpf(BPF_PROG_ATTACH)} of a program to the cgroup directory {@code targetFd}. */
  void bpfProgAttach(int targetFd, int progFd, int attachType, int flags);

  /** {@code bpf(BPF_PROG_DETACH)}. */
  void bpfProgDetach(int targetFd, int progFd, int attachType);

  /** {@code bpf(BPF_PROG_QUERY)}: ids of the programs attached to the cgroup itself (not inherited). */
  int[] bpfProgQuery(int targetFd, int attachType);

  /** {@code bpf(BPF_PROG_GET_FD_BY_ID)}. */
  int bpfProgGetFdById(int id);
}
