package dev.berth.core.internal.seccomp;

import dev.berth.linux.internal.LinuxConstants;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.function.UnaryOperator;

/**
 * A smaller program that answers every syscall as libseccomp's does. The kernel's load of a filter
 * (copy, classic-to-eBPF conversion, JIT) grows with its length, and is on every container's start
 * path: libseccomp spends one or two instructions per syscall and architecture the profile names (864
 * for the default profile on x86_64 with i386), although most syscalls get an answer that does not
 * depend on their arguments and neighbouring numbers mostly get the same one.
 *
 * <p>So, per architecture of the filter: the answer of every syscall number up to the highest one
 * named is read off libseccomp's own program by {@linkplain #walk walking} it; numbers whose answer is
 * constant become runs of equal answers, found by a binary search over the runs' bounds (one
 * instruction per run); numbers whose answer depends on their arguments go on to libseccomp's program
 * for just the rules of those syscalls. The result is used only when a walk of both programs proves
 * it answers alike, per architecture and number, argument test by argument test; otherwise
 * libseccomp's program stays as it is.
 */
final class RangeDispatch {

    static final int LD_W_ABS = LinuxConstants.BPF_LD_W_ABS;
    static final int JA = LinuxConstants.BPF_JMP_JA;
    static final int JEQ_K = LinuxConstants.BPF_JMP_JEQ_K;
    static final int JGT_K = LinuxConstants.BPF_JMP_JGT_K;
    static final int JGE_K = LinuxConstants.BPF_JMP_JGE_K;
    static final int JSET_K = LinuxConstants.BPF_JMP_JSET_K;
    static final int AND_K = LinuxConstants.BPF_ALU_AND_K;
    static final int RET_K = LinuxConstants.BPF_RET_K;
    static final int NR = LinuxConstants.SECCOMP_DATA_NR;
    static final int ARCH = LinuxConstants.SECCOMP_DATA_ARCH;
    /** {@code sizeof(struct seccomp_data)}: nr, arch, instruction_pointer, args[6]. */
    private static final int DATA_SIZE = 64;
    /** Steps of one walk: far above what a real filter's path for one syscall takes. */
    private static final int WALK_BUDGET = 20_000;
    /** The largest forward jump a conditional instruction can make ({@code u8 jt, jf}). */
    private static final int MAX_JUMP = 255;
    /** Architecture tokens no filter names, to check that both programs refuse them alike. */
    private static final List<Long> FOREIGN = List.of(0L, 0xffffffffL, LinuxConstants.AUDIT_ARCH_X86_64,
            LinuxConstants.AUDIT_ARCH_I386, LinuxConstants.AUDIT_ARCH_AARCH64, LinuxConstants.AUDIT_ARCH_ARM);
    /** Numbers above an architecture's highest named one that the check asks about (x32's, the top). */
    private static final List<Long> HIGH = List.of(0x40000000L, 0x40000001L, 0x7fffffffL, 0xfffffffeL, 0xffffffffL);

    private RangeDispatch() {}

    /** What a program answers to one syscall: an answer, or a test of an argument word and what follows each outcome. */
    sealed interface Decision permits Ret, Test {}

    record Ret(long value) implements Decision {}

    /** {@code operand} is the tested word as the program computed it (a {@code seccomp_data} offset, masks). */
    record Test(String operand, int code, long k, Decision yes, Decision no) implements Decision {}

    /** The program holds what the walk cannot follow: no smaller program is proven for it. */
    static final class Unproven extends Exception {
        Unproven(String why) {
            super(why, null, false, false);
        }
    }

    /**
     * @param full the program libseccomp's output became (with the ENOSYS stub if {@code wrap} adds one)
     * @param wrap what was put around libseccomp's output to make {@code full}; applied to the new body too
     * @return a shorter program proven to answer as {@code full} does, or {@code full} itself
     */
    static long[] shrink(long[] full, ResolvedFilter f, FilterBackend backend, UnaryOperator<long[]> wrap) {
        try {
            Map<Long, Long> maxByToken = new LinkedHashMap<>();
            Map<Long, String> archByToken = new LinkedHashMap<>();
            for (String arch : f.arches()) {
                long token = backend.archToken(arch);
                long max = -1;
                for (ResolvedFilter.Rule r : f.rules()) {
                    max = Math.max(max, backend.syscallNumber(arch, r.syscall()));
                }
                archByToken.put(token, arch);
                if (max >= 0) {
                    maxByToken.put(token, max);
                }
            }
            Map<Long, List<Range>> ranges = new LinkedHashMap<>();
            Map<String, Set<Long>> dependent = new LinkedHashMap<>();
            for (Map.Entry<Long, Long> e : maxByToken.entrySet()) {
                List<Range> rs = ranges(full, e.getKey(), e.getValue());
                Set<Long> argNrs = new LinkedHashSet<>();
                for (int i = 0; i < rs.size(); i++) {
                    long end = i + 1 < rs.size() ? rs.get(i + 1).from() : e.getValue() + 1;
                    for (long nr = rs.get(i).from(); nr < end && rs.get(i).answer() == null; nr++) {
                        argNrs.add(nr);
                    }
                }
                dependent.put(archByToken.get(e.getKey()), argNrs);
                if (rs.size() > 1) {
                    ranges.put(e.getKey(), rs);
                }
            }
            if (ranges.isEmpty()) {
                return full;
            }
            long[] front = front(ranges);
            // the rules of the syscalls whose answer depends on their arguments; then, should libseccomp
            // have put a test of theirs under another number (a multiplexer), every rule with a condition too
            List<ResolvedFilter.Rule> named = new ArrayList<>();
            List<ResolvedFilter.Rule> conditional = new ArrayList<>();
            for (ResolvedFilter.Rule r : f.rules()) {
                boolean dep = false;
                for (Map.Entry<String, Set<Long>> d : dependent.entrySet()) {
                    dep |= d.getValue().contains((long) backend.syscallNumber(d.getKey(), r.syscall()));
                }
                if (dep) {
                    named.add(r);
                }
                if (dep || !r.args().isEmpty()) {
                    conditional.add(r);
                }
            }
            for (List<ResolvedFilter.Rule> rules : List.of(named, conditional)) {
                long[] rest = backend.export(new ResolvedFilter(f.name(), f.defaultAction(), f.arches(), rules, f.flags()));
                long[] body = new long[front.length + rest.length];
                System.arraycopy(front, 0, body, 0, front.length);
                System.arraycopy(rest, 0, body, front.length, rest.length);
                long[] candidate = wrap.apply(body);
                if (candidate.length < full.length && answersAlike(full, candidate, archByToken.keySet(), maxByToken)) {
                    return candidate;
                }
            }
            return full;
        } catch (Unproven e) {
            return full;
        }
    }

    /** A run of numbers from {@code from} on with one answer; {@code answer} null: it depends on the arguments. */
    record Range(long from, Long answer) {}

    /** Numbers 0 to {@code max} as runs of one answer, then everything above {@code max} as argument-dependent. */
    static List<Range> ranges(long[] program, long token, long max) throws Unproven {
        List<Range> out = new ArrayList<>();
        Long prev = null;
        for (long nr = 0; nr <= max; nr++) {
            Long answer = walk(program, token, nr) instanceof Ret r ? r.value() : null;
            if (out.isEmpty() || !Objects.equals(prev, answer)) {
                out.add(new Range(nr, answer));
            }
            prev = answer;
        }
        if (prev != null) {
            out.add(new Range(max + 1, null));
        }
        return out;
    }

    /**
     * The dispatch: the architecture picks its block (none: on to the rest); a block loads the number and
     * searches its runs' bounds, ending at one return per answer, or at a jump on to the rest. Every jump
     * lands after it, on the rest's first instruction at the latest (the front's length).
     */
    static long[] front(Map<Long, List<Range>> ranges) throws Unproven {
        List<long[]> blocks = new ArrayList<>();
        for (List<Range> rs : ranges.values()) {
            blocks.add(block(rs));
        }
        int n = blocks.size();
        int head = 1 + 2 * n + 1;
        int length = head;
        for (long[] b : blocks) {
            length += b.length;
        }
        long[] out = new long[length];
        out[0] = BpfProgram.insn(LD_W_ABS, 0, 0, ARCH);
        int at = head;
        int i = 0;
        for (long token : ranges.keySet()) {
            int pos = 1 + 2 * i;
            out[pos] = BpfProgram.insn(JEQ_K, 0, 1, token);
            out[pos + 1] = BpfProgram.insn(JA, 0, 0, at - (pos + 2));
            long[] b = blocks.get(i);
            System.arraycopy(b, 0, out, at, b.length);
            // the block's last instruction jumps on to the rest
            out[at + b.length - 1] = BpfProgram.insn(JA, 0, 0, length - (at + b.length));
            at += b.length;
            i++;
        }
        out[head - 1] = BpfProgram.insn(JA, 0, 0, length - head);
        return out;
    }

    /** One architecture's block: load the number, the search (one test per bound), the returns, the jump on (patched). */
    static long[] block(List<Range> rs) throws Unproven {
        List<Long> answers = new ArrayList<>();
        for (Range r : rs) {
            if (r.answer() != null && !answers.contains(r.answer())) {
                answers.add(r.answer());
            }
        }
        List<long[]> nodes = new ArrayList<>(); // {bound, left target, right target}; targets: >= 0 node, < 0 slot
        build(rs, 0, rs.size(), answers, nodes);
        int slots = 1 + nodes.size();
        long[] out = new long[slots + answers.size() + 1];
        out[0] = BpfProgram.insn(LD_W_ABS, 0, 0, NR);
        for (int i = 0; i < nodes.size(); i++) {
            long[] node = nodes.get(i);
            int pos = 1 + i;
            int jt = position(node[2], slots) - (pos + 1);
            int jf = position(node[1], slots) - (pos + 1);
            if (jt > MAX_JUMP || jf > MAX_JUMP) {
                throw new Unproven("a jump of " + Math.max(jt, jf) + " instructions");
            }
            out[pos] = BpfProgram.insn(JGT_K, jt, jf, node[0] - 1); // nr >= bound: the upper half
        }
        for (int i = 0; i < answers.size(); i++) {
            out[slots + i] = BpfProgram.insn(RET_K, 0, 0, answers.get(i));
        }
        out[out.length - 1] = BpfProgram.insn(JA, 0, 0, 0);
        return out;
    }

    /** Node {@code t} sits at 1 + t; slot {@code -1 - s} at {@code slots + s} (the last slot: the jump on). */
    private static int position(long t, int slots) {
        return t >= 0 ? (int) (1 + t) : (int) (slots + (-1 - t));
    }

    /** Preorder: a node, its lower half, its upper half; returns the target for runs {@code from..to-1}. */
    private static long build(List<Range> rs, int from, int to, List<Long> answers, List<long[]> nodes) {
        if (to - from == 1) {
            Long a = rs.get(from).answer();
            return -1L - (a == null ? answers.size() : answers.indexOf(a));
        }
        int me = nodes.size();
        nodes.add(null);
        int mid = (from + to) >>> 1;
        long lower = build(rs, from, mid, answers, nodes);
        long upper = build(rs, mid, to, answers, nodes);
        nodes.set(me, new long[] {rs.get(mid).from(), lower, upper});
        return me;
    }

    /**
     * Both programs answer alike: the same decision for every number up to just above the highest named one on
     * each architecture of the filter, for numbers far above it, and for architectures it does not name.
     */
    static boolean answersAlike(long[] a, long[] b, Set<Long> tokens, Map<Long, Long> maxByToken) throws Unproven {
        Set<Long> all = new LinkedHashSet<>(tokens);
        all.addAll(FOREIGN);
        for (long token : all) {
            long max = tokens.contains(token) ? maxByToken.getOrDefault(token, 16L) : 16L;
            List<Long> nrs = new ArrayList<>();
            for (long nr = 0; nr <= max + 2; nr++) {
                nrs.add(nr);
            }
            nrs.addAll(HIGH);
            for (long nr : nrs) {
                if (!walk(a, token, nr).equals(walk(b, token, nr))) {
                    return false;
                }
            }
        }
        return true;
    }

    /**
     * What {@code program} answers to syscall {@code nr} on architecture {@code token}, for any arguments:
     * the number and architecture are known, every other word of {@code seccomp_data} is followed
     * symbolically, both ways at each test of it.
     */
    static Decision walk(long[] program, long token, long nr) throws Unproven {
        return walk(program, 0, 0, null, token, nr & 0xffffffffL, new int[] {WALK_BUDGET});
    }

    private static Decision walk(long[] p, int pc, long a, String sym, long token, long nr, int[] budget)
            throws Unproven {
        while (true) {
            if (pc < 0 || pc >= p.length) {
                throw new Unproven("runs off its end at " + pc);
            }
            if (--budget[0] < 0) {
                throw new Unproven("too many paths");
            }
            long insn = p[pc];
            int code = BpfProgram.code(insn);
            long k = BpfProgram.k(insn);
            if (code == LD_W_ABS) {
                if (k == NR) {
                    a = nr;
                    sym = null;
                } else if (k == ARCH) {
                    a = token;
                    sym = null;
                } else if (k < DATA_SIZE && k % 4 == 0) {
                    sym = "data[" + k + "]";
                } else {
                    throw new Unproven("a load of offset " + k);
                }
                pc++;
            } else if (code == AND_K) {
                if (sym == null) {
                    a &= k;
                } else {
                    sym = "(" + sym + " & " + k + ")";
                }
                pc++;
            } else if (code == RET_K) {
                return new Ret(k);
            } else if (code == JA) {
                pc += 1 + (int) k;
            } else if (code == JEQ_K || code == JGT_K || code == JGE_K || code == JSET_K) {
                int yes = pc + 1 + BpfProgram.jt(insn);
                int no = pc + 1 + BpfProgram.jf(insn);
                if (sym != null) {
                    return new Test(sym, code, k, walk(p, yes, a, sym, token, nr, budget),
                            walk(p, no, a, sym, token, nr, budget));
                }
                boolean t = code == JEQ_K ? a == k : code == JGT_K ? a > k : code == JGE_K ? a >= k : (a & k) != 0;
                pc = t ? yes : no;
            } else {
                throw new Unproven("opcode " + code);
            }
        }
    }
}
