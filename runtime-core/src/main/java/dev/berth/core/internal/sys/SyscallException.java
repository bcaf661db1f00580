package dev.berth.core.internal.sys;

/** A failed system call: {@code syscall(operand): strerror}. */
public final class SyscallException extends RuntimeException {
    private final String syscall;
    private final String operand;
    private final int errno;

    public SyscallException(String syscall, String operand, int errno, String description) {
        super(syscall + "(" + operand + "): " + description);
        this.syscall = syscall;
        this.operand = operand;
        this.errno = errno;
    }

    public String syscall() {
        return syscall;
    }

    public String operand() {
        return operand;
    }

    public int errno() {
        return errno;
    }
}
