package dev.berth.cgroups.internal.linux;

/** A failed system call: {@code call(args): strerror(errno)}. */
public final class SyscallException extends RuntimeException {
  private static final long serialVersionUID = 1L;
  private final int errno;

  public SyscallException(String call, int errno, String errorText) {
    super(call + ": " + errorText);
    this.errno = errno;
  }

  public int errno() {
    return errno;
  }
}
