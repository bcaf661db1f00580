package dev.berth.cgroups.internal.linux;

/** A failed system call: {@code call(args): strerror(errno)}; callers match on {@link #errno()}. */
public final class SyscallException extends RuntimeException {
  private static final long serialVersionUID = 1L;
  private final int errno;
  private final String errorText;

  public SyscallException(String call, int errno, String errorText) {
    super(call + ": " + errorText);
    this.errno = errno;
    this.errorText = errorText;
  }

  public int errno() {
    return errno;
  }

  /** The kernel's error text (strerror, possibly localised), for messages only. */
  public String errorText() {
    return errorText;
  }
}
