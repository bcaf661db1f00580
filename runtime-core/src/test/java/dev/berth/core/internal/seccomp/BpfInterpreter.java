package dev.berth.core.internal.seccomp;

/**
 * Runs a classic BPF seccomp program over a {@code struct seccomp_data} the way the kernel does,
 * so that tests can ask a compiled filter what it answers to a syscall without loading it.
 */
final class BpfInterpreter {

    private BpfInterpreter() {}

    /** The filter's return value for syscall {@code nr} on {@code arch} with these arguments. */
    static int run(long[] program, long arch, int nr, long... args) {
        byte[] data = new byte[64]; // nr, arch, instruction_pointer, args[6]
        java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(data).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        b.putInt(0, nr).putInt(4, (int) arch);
        for (int i = 0; i < args.length; i++) {
            b.putLong(16 + 8 * i, args[i]);
        }
        int a = 0;
        int x = 0;
        int[] mem = new int[16];
        for (int pc = 0; pc < program.length; pc++) {
            long insn = program[pc];
            int code = BpfProgram.code(insn);
            int k = (int) BpfProgram.k(insn);
            int cls = code & 0x07;
            int src = code & 0x08;
            switch (cls) {
                case 0x00 -> { // LD
                    int mode = code & 0xe0;
                    if (mode == 0x20) {
                        if ((code & 0x18) != 0x00 || k < 0 || k > 60 || k % 4 != 0) {
                            throw new IllegalStateException("bad load at " + pc);
                        }
                        a = b.getInt(k);
                    } else if (mode == 0x00) {
                        a = k;
                    } else if (mode == 0x60) {
                        a = mem[k];
                    } else {
                        throw new IllegalStateException("unsupported LD mode at " + pc + ": " + code);
                    }
                }
                case 0x01 -> x = (code & 0xe0) == 0x60 ? mem[k] : k; // LDX
                case 0x02 -> mem[k] = a; // ST
                case 0x03 -> mem[k] = x; // STX
                case 0x04 -> { // ALU
                    int v = src != 0 ? x : k;
                    a = switch (code & 0xf0) {
                        case 0x00 -> a + v;
                        case 0x10 -> a - v;
                        case 0x20 -> a * v;
                        case 0x30 -> Integer.divideUnsigned(a, v);
                        case 0x40 -> a | v;
                        case 0x50 -> a & v;
                        case 0x60 -> a << v;
                        case 0x70 -> a >>> v;
                        case 0x80 -> -a;
                        case 0x90 -> Integer.remainderUnsigned(a, v);
                        case 0xa0 -> a ^ v;
                        default -> throw new IllegalStateException("unsupported ALU op at " + pc);
                    };
                }
                case 0x05 -> { // JMP
                    int op = code & 0xf0;
                    if (op == 0x00) {
                        pc += k;
                        continue;
                    }
                    long l = a & 0xffffffffL;
                    long r = (src != 0 ? x : k) & 0xffffffffL;
                    boolean t = switch (op) {
                        case 0x10 -> l == r;
                        case 0x20 -> l > r;
                        case 0x30 -> l >= r;
                        case 0x40 -> (l & r) != 0;
                        default -> throw new IllegalStateException("unsupported JMP op at " + pc);
                    };
                    pc += t ? BpfProgram.jt(insn) : BpfProgram.jf(insn);
                }
                case 0x06 -> {
                    return (code & 0x18) == 0x10 ? a : k; // RET A or K
                }
                case 0x07 -> {
                    if ((code & 0xf8) == 0x00) {
                        x = a; // TAX
                    } else {
                        a = x; // TXA
                    }
                }
                default -> throw new IllegalStateException("unsupported class at " + pc);
            }
        }
        throw new IllegalStateException("the program ran off its end");
    }
}
