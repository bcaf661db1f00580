package dev.berth.core.internal.seccomp;

/** A condition on one syscall argument: {@code args[index] op value} ({@code (arg & value) == valueTwo} for MASKED_EQ). */
public record ArgCondition(int index, long value, long valueTwo, CompareOp op) {
    public ArgCondition {
        if (index < 0 || index > 5) {
            throw new IllegalArgumentException("index: " + index + " is not an argument (0-5)");
        }
        if (op == null) {
            throw new IllegalArgumentException("op: missing");
        }
    }
}
