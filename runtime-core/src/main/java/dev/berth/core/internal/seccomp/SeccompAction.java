package dev.berth.core.internal.seccomp;

/**
 * The actions of an OCI/Docker seccomp profile. The values are the kernel's {@code SECCOMP_RET_*},
 * which libseccomp's {@code SCMP_ACT_*} equal; ERRNO and TRACE carry their data in the low 16 bits.
 */
public enum SeccompAction {
    SCMP_ACT_KILL(0x00000000),
    SCMP_ACT_KILL_THREAD(0x00000000),
    SCMP_ACT_KILL_PROCESS(0x80000000),
    SCMP_ACT_TRAP(0x00030000),
    SCMP_ACT_ERRNO(0x00050000),
    SCMP_ACT_NOTIFY(0x7fc00000),
    SCMP_ACT_TRACE(0x7ff00000),
    SCMP_ACT_LOG(0x7ffc0000),
    SCMP_ACT_ALLOW(0x7fff0000);

    /** errno of an ERRNO action that names none, as runc and Docker have it. */
    public static final int DEFAULT_ERRNO = 1; // EPERM

    private final int base;

    SeccompAction(int base) {
        this.base = base;
    }

    /** The filter's return value: the action with its data (an errno or a tracer's message). */
    public int value(int data) {
        return this == SCMP_ACT_ERRNO || this == SCMP_ACT_TRACE ? base | (data & 0xffff) : base;
    }

    /** Whether this action carries data ({@code errnoRet}). */
    public boolean takesData() {
        return this == SCMP_ACT_ERRNO || this == SCMP_ACT_TRACE;
    }
}
