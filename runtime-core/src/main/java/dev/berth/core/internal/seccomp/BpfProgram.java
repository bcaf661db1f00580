package dev.berth.core.internal.seccomp;

import java.util.Arrays;

/**
 * A classic BPF seccomp program and the {@code seccomp(2)} flags to load it with. Each instruction
 * ({@code struct sock_filter}: u16 code, u8 jt, u8 jf, u32 k) is one long whose little-endian bytes
 * are the struct's, which is how the plan carries it: one 8-byte argument per instruction.
 */
public final class BpfProgram {

    private final long[] instructions;
    private final long flags;

    public BpfProgram(long[] instructions, long flags) {
        if (instructions.length == 0) {
            throw new IllegalArgumentException("a seccomp program has at least one instruction");
        }
        this.instructions = instructions.clone();
        this.flags = flags;
    }

    public static long insn(int code, int jt, int jf, long k) {
        if (jt < 0 || jt > 255 || jf < 0 || jf > 255) {
            throw new IllegalArgumentException("jump offset out of range: " + jt + "/" + jf);
        }
        return (code & 0xffffL) | ((long) jt << 16) | ((long) jf << 24) | ((k & 0xffffffffL) << 32);
    }

    public static int code(long insn) {
        return (int) (insn & 0xffff);
    }

    public static int jt(long insn) {
        return (int) ((insn >>> 16) & 0xff);
    }

    public static int jf(long insn) {
        return (int) ((insn >>> 24) & 0xff);
    }

    public static long k(long insn) {
        return insn >>> 32;
    }

    /** Decodes what {@code seccomp_export_bpf} wrote: 8 bytes per instruction, in the host's byte order (little-endian). */
    public static long[] fromBytes(byte[] b) {
        if (b.length == 0 || b.length % 8 != 0) {
            throw new IllegalArgumentException("a BPF program is a multiple of 8 bytes, not " + b.length);
        }
        long[] out = new long[b.length / 8];
        java.nio.ByteBuffer.wrap(b).order(java.nio.ByteOrder.LITTLE_ENDIAN).asLongBuffer().get(out);
        return out;
    }

    public long[] instructions() {
        return instructions.clone();
    }

    public int length() {
        return instructions.length;
    }

    public long flags() {
        return flags;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof BpfProgram p && p.flags == flags && Arrays.equals(p.instructions, instructions);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(instructions) * 31 + Long.hashCode(flags);
    }

    @Override
    public String toString() {
        return "BpfProgram[" + instructions.length + " instructions, flags " + flags + "]";
    }
}
