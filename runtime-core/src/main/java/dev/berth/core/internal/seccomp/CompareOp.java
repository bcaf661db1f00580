package dev.berth.core.internal.seccomp;

/** The argument comparisons of a profile; the numbers are libseccomp's {@code enum scmp_compare}. */
public enum CompareOp {
    SCMP_CMP_NE(1), SCMP_CMP_LT(2), SCMP_CMP_LE(3), SCMP_CMP_EQ(4), SCMP_CMP_GE(5), SCMP_CMP_GT(6),
    SCMP_CMP_MASKED_EQ(7);

    private final int code;

    CompareOp(int code) {
        this.code = code;
    }

    public int code() {
        return code;
    }
}
