package dev.berth.core.internal.seccomp;

import dev.berth.linux.internal.LinuxConstants;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;

/**
 * Compiles a resolved filter to the program the init loads: libseccomp's, behind a stub that
 * answers ENOSYS to syscalls newer than any the profile names (runc's "patchbpf"). A profile
 * cannot name what did not exist when it was written, and EPERM for a new syscall stops libc
 * from falling back to the old one, where ENOSYS ("this kernel lacks it") makes it. Where it is shorter and
 * proven to answer alike, {@link RangeDispatch}'s program goes in its place: the kernel's load of the
 * program, on every container's start, grows with its length.
 */
public final class SeccompCompiler {

    static final int LD_W_ABS = LinuxConstants.BPF_LD_W_ABS;
    static final int JA = LinuxConstants.BPF_JMP_JA;
    static final int JEQ_K = LinuxConstants.BPF_JMP_JEQ_K;
    static final int JGT_K = LinuxConstants.BPF_JMP_JGT_K;
    static final int RET_K = LinuxConstants.BPF_RET_K;
    static final int NR = LinuxConstants.SECCOMP_DATA_NR;
    static final int ARCH = LinuxConstants.SECCOMP_DATA_ARCH;
    static final int ENOSYS = LinuxConstants.ENOSYS;
    static final int MAX_INSNS = LinuxConstants.BPF_MAXINSNS;

    private final FilterBackend backend;

    public SeccompCompiler(FilterBackend backend) {
        this.backend = backend;
    }

    public BpfProgram compile(ResolvedFilter filter) {
        return compile(filter, true);
    }

    /** libseccomp's program behind the stub, as it was before {@link RangeDispatch} (benchmarks compare the two). */
    public BpfProgram compileWithoutDispatch(ResolvedFilter filter) {
        return compile(filter, false);
    }

    private BpfProgram compile(ResolvedFilter filter, boolean dispatch) {
        long[] body = backend.export(filter);
        UnaryOperator<long[]> wrap;
        if (needsStub(filter)) {
            Map<Long, Long> last = lastSyscalls(filter);
            wrap = b -> withEnosysStub(b, last);
        } else {
            wrap = UnaryOperator.identity();
        }
        long[] program = dispatch ? RangeDispatch.shrink(wrap.apply(body), filter, backend, wrap) : wrap.apply(body);
        if (program.length > MAX_INSNS) {
            throw new IllegalArgumentException("seccomp profile " + filter.name() + ": the filter has " + program.length
                    + " instructions, more than the kernel's " + MAX_INSNS);
        }
        return new BpfProgram(program, filter.flags());
    }

    /** A filter that allows (or logs) what it does not name has no use for ENOSYS. */
    static boolean needsStub(ResolvedFilter f) {
        return f.defaultAction() != SeccompAction.SCMP_ACT_ALLOW.value(0)
                && f.defaultAction() != SeccompAction.SCMP_ACT_LOG.value(0);
    }

    /** Per architecture token: the highest syscall number the filter names there. */
    Map<Long, Long> lastSyscalls(ResolvedFilter f) {
        Map<Long, Long> last = new LinkedHashMap<>();
        for (String arch : f.arches()) {
            long token = backend.archToken(arch);
            long max = -1;
            for (ResolvedFilter.Rule r : f.rules()) {
                max = Math.max(max, backend.syscallNumber(arch, r.syscall()));
            }
            if (max >= 0) {
                last.put(token, max);
            }
        }
        return last;
    }

    /**
     * Puts the stub before {@code body}: per architecture, a syscall above the last one named gets
     * ENOSYS; everything else runs {@code body}, whose own jumps are relative and unaffected. On
     * x86_64 an x32 syscall (number | 0x40000000) is above every native one: ENOSYS as well, as
     * from a kernel without x32.
     */
    static long[] withEnosysStub(long[] body, Map<Long, Long> last) {
        int n = last.size();
        if (n == 0) {
            return body.clone();
        }
        List<Long> stub = new ArrayList<>();
        stub.add(BpfProgram.insn(LD_W_ABS, 0, 0, ARCH));
        int i = 0;
        for (long token : last.keySet()) {
            stub.add(BpfProgram.insn(JEQ_K, n + 2 * i, 0, token));
            i++;
        }
        stub.add(BpfProgram.insn(JA, 0, 0, 3L * n + 1));
        i = 0;
        for (long max : last.values()) {
            stub.add(BpfProgram.insn(LD_W_ABS, 0, 0, NR));
            stub.add(BpfProgram.insn(JGT_K, 3 * n - 2 - 3 * i, 0, max));
            stub.add(BpfProgram.insn(JA, 0, 0, 3L * n - 2 - 3 * i));
            i++;
        }
        stub.add(BpfProgram.insn(RET_K, 0, 0, SeccompAction.SCMP_ACT_ERRNO.value(ENOSYS)));
        long[] out = new long[stub.size() + body.length];
        for (int k = 0; k < stub.size(); k++) {
            out[k] = stub.get(k);
        }
        System.arraycopy(body, 0, out, stub.size(), body.length);
        return out;
    }
}
