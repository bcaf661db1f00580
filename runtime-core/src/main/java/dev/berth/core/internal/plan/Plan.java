package dev.berth.core.internal.plan;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * An init plan: the ops the native stage executes, in order. Op 0 is {@link OpCode#CLONE}, or
 * {@link OpCode#ENTER} followed by {@code CLONE} (a process exec'd into a running container), or
 * {@link OpCode#MONITOR} followed by {@code CLONE} (a detached or logging container); they
 * run in the monitor, every later op in the process it cloned.
 *
 * <p>Wire format (little-endian): {@code "BRT1" u32 version=1 u32 nops}, then per op
 * {@code u32 code u32 flags u32 nargs} and per argument {@code u32 length, bytes}.
 */
public record Plan(List<Op> ops) {

    public static final int VERSION = 1;
    private static final byte[] MAGIC = {'B', 'R', 'T', '1'};

    public Plan {
        ops = List.copyOf(ops);
        int clone = !ops.isEmpty() && (ops.get(0).code() == OpCode.ENTER || ops.get(0).code() == OpCode.MONITOR) ? 1 : 0;
        if (clone == 1 && ops.get(0).code() == OpCode.MONITOR && ops.size() > 1
                && ops.get(1).code() == OpCode.EXIT_COMMAND) {
            clone = 2;
        }
        if (ops.size() <= clone || ops.get(clone).code() != OpCode.CLONE) {
            throw new IllegalArgumentException("a plan starts with CLONE, or ENTER or MONITOR (and EXIT_COMMAND) and"
                    + " CLONE");
        }
    }

    /** This plan run by a monitor set up by {@code monitor} (an {@link OpCode#MONITOR} op), which comes first. */
    public Plan withMonitor(Op monitor) {
        if (monitor.code() != OpCode.MONITOR || ops.get(0).code() != OpCode.CLONE) {
            throw new IllegalArgumentException("a MONITOR op goes before a container plan's CLONE");
        }
        java.util.List<Op> all = new java.util.ArrayList<>(ops.size() + 1);
        all.add(monitor);
        for (Op o : ops) {
            // FORK names the op its parent continues at by index: one further on now
            all.add(o.code() == OpCode.FORK ? new Op(OpCode.FORK, o.flags(), List.of((Long) o.args().get(0) + 1)) : o);
        }
        return new Plan(all);
    }

    /**
     * This plan (which starts with MONITOR) with {@code exitCommand} right after the MONITOR op: the
     * monitor runs it once the container ended (a detached container's restart policy).
     */
    public Plan withExitCommand(Op exitCommand) {
        if (exitCommand.code() != OpCode.EXIT_COMMAND || ops.get(0).code() != OpCode.MONITOR
                || ops.get(1).code() != OpCode.CLONE) {
            throw new IllegalArgumentException("an EXIT_COMMAND op goes between a plan's MONITOR and its CLONE");
        }
        java.util.List<Op> all = new java.util.ArrayList<>(ops.size() + 1);
        all.add(ops.get(0));
        all.add(exitCommand);
        for (Op o : ops.subList(1, ops.size())) {
            all.add(o.code() == OpCode.FORK ? new Op(OpCode.FORK, o.flags(), List.of((Long) o.args().get(0) + 1)) : o);
        }
        return new Plan(all);
    }

    public byte[] encode() {
        ByteArrayOutputStream out = new ByteArrayOutputStream(4096);
        out.writeBytes(MAGIC);
        writeInt(out, VERSION);
        writeInt(out, ops.size());
        for (Op op : ops) {
            writeInt(out, op.code().code());
            writeInt(out, op.flags());
            writeInt(out, op.args().size());
            for (Object a : op.args()) {
                if (a instanceof String s) {
                    byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
                    writeInt(out, bytes.length);
                    out.writeBytes(bytes);
                } else {
                    writeInt(out, 8); // a seccomp program is hundreds of these: no buffer per argument
                    long v = (Long) a;
                    writeInt(out, (int) v);
                    writeInt(out, (int) (v >>> 32));
                }
            }
        }
        return out.toByteArray();
    }

    private static void writeInt(ByteArrayOutputStream out, int v) {
        out.write(v);
        out.write(v >>> 8);
        out.write(v >>> 16);
        out.write(v >>> 24);
    }

    /** Index of the first op with this code, or -1. */
    public int indexOf(OpCode code) {
        for (int i = 0; i < ops.size(); i++) {
            if (ops.get(i).code() == code) {
                return i;
            }
        }
        return -1;
    }
}
