package dev.berth.image.internal.linux;

import java.io.IOException;

/** A failed system call: {@code op `operand`: message (errno N)}. */
public final class ErrnoException extends IOException {
  private static final long serialVersionUID = 1L;
  private final int errno;

  public ErrnoException(String op, String operand, int errno, String message) {
    super(op + " `" + operand + "`: " + message + " (errno " + errno + ")");
    this.errno = errno;
  }

  public int errno() {
    return errno;
  }
}
