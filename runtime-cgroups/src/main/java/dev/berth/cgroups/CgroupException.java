package dev.berth.cgroups;

import dev.berth.BerthException;

/**
 * A cgroup operation failed. The message always names the file or directory involved, the value
 * written (if any) and the error text of the kernel, e.g.
 * {@code write /sys/fs/cgroup/x/memory.max "abc": Invalid argument}, or explains what is wrong with
 * the host's delegation and how to fix it. A {@link BerthException}, as every module's failures are.
 */
public class CgroupException extends BerthException {
  private static final long serialVersionUID = 1L;

  public CgroupException(String message) {
    super(message);
  }

  public CgroupException(String message, Throwable cause) {
    super(message, cause);
  }
}
