package dev.berth.core;

/**
 * A {@link SeccompListener}'s answer: let the syscall run ({@link #continueSyscall()}, the kernel then
 * checks it as it would without the filter: capabilities, permissions), or fail it with an errno.
 */
public final class SeccompResponse {

    private static final SeccompResponse CONTINUE = new SeccompResponse(0);

    private final int errno;

    private SeccompResponse(int errno) {
        this.errno = errno;
    }

    /** The syscall runs ({@code SECCOMP_USER_NOTIF_FLAG_CONTINUE}). */
    public static SeccompResponse continueSyscall() {
        return CONTINUE;
    }

    /** The syscall fails with this errno ({@code 1} is EPERM); it does not run. */
    public static SeccompResponse errno(int errno) {
        if (errno <= 0 || errno > 4095) {
            throw new IllegalArgumentException("seccomp response: errno " + errno + " is not one (1-4095)");
        }
        return new SeccompResponse(errno);
    }

    public boolean continues() {
        return errno == 0;
    }

    /** The errno the syscall fails with; 0 when it continues. */
    public int error() {
        return errno;
    }

    @Override
    public String toString() {
        return continues() ? "SeccompResponse[continue]" : "SeccompResponse[errno " + errno + "]";
    }
}
