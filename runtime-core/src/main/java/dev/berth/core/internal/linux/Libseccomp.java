package dev.berth.core.internal.linux;

import com.sun.jna.LastErrorException;
import com.sun.jna.Library;
import com.sun.jna.Memory;
import com.sun.jna.Native;
import com.sun.jna.Pointer;
import dev.berth.core.internal.seccomp.ArgCondition;
import dev.berth.core.internal.seccomp.BpfProgram;
import dev.berth.core.internal.seccomp.FilterBackend;
import dev.berth.core.internal.seccomp.ResolvedFilter;
import dev.berth.core.internal.seccomp.SeccompAction;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/**
 * libseccomp ({@code libseccomp.so.2}, Debian's libseccomp2) through JNA: its per-architecture
 * syscall tables and its BPF generator. Nothing is loaded here: the program is exported
 * ({@code seccomp_export_bpf}) into a memfd and handed to the init, which loads it. Loaded lazily, so
 * that a runtime whose containers are all unconfined never needs the library.
 */
public final class Libseccomp implements FilterBackend {

    /** {@code enum scmp_filter_attr} */
    private static final int SCMP_FLTATR_ACT_BADARCH = 2;
    private static final int SCMP_FLTATR_CTL_NNP = 3;
    private static final int SCMP_FLTATR_CTL_OPTIMIZE = 8;
    /** A binary tree of syscall numbers, not a list: a few comparisons per syscall instead of hundreds. */
    private static final int OPTIMIZE_BINARY_TREE = 2;
    /** {@code struct scmp_arg_cmp}: u32 arg, u32 op, u64 datum_a, u64 datum_b */
    private static final int ARG_CMP_SIZE = 24;
    private static final int NR_SCMP_ERROR = -1;
    private static final int MFD_CLOEXEC = 1;

    interface Lib extends Library {
        Pointer seccomp_init(int defAction);

        void seccomp_release(Pointer ctx);

        int seccomp_arch_add(Pointer ctx, int arch);

        int seccomp_arch_exist(Pointer ctx, int arch);

        int seccomp_arch_resolve_name(String name);

        int seccomp_syscall_resolve_name_arch(int arch, String name);

        int seccomp_syscall_resolve_name(String name);

        Pointer seccomp_syscall_resolve_num_arch(int arch, int num);

        int seccomp_attr_set(Pointer ctx, int attr, int value);

        int seccomp_rule_add_array(Pointer ctx, int action, int syscall, int argCount, Pointer args);

        int seccomp_export_bpf(Pointer ctx, int fd);
    }

    interface C extends Library {
        int memfd_create(String name, int flags) throws LastErrorException;

        int close(int fd) throws LastErrorException;

        String strerror(int errno);
    }

    private static volatile Lib lib;
    private static volatile C libc;

    private final Map<String, Integer> tokens = new HashMap<>();

    private static Lib lib() {
        if (lib == null) {
            synchronized (Libseccomp.class) {
                if (lib == null) {
                    try {
                        lib = Native.load("seccomp", Lib.class);
                        libc = Native.load("c", C.class);
                    } catch (UnsatisfiedLinkError e) {
                        throw new IllegalStateException("seccomp: libseccomp (libseccomp.so.2) is not installed: "
                                + "a seccomp profile needs it (Debian and Ubuntu: libseccomp2, Fedora: libseccomp; "
                                + "or run with seccomp unconfined)", e);
                    }
                }
            }
        }
        return lib;
    }

    @Override
    public synchronized long archToken(String arch) {
        Integer t = tokens.get(arch);
        if (t == null) {
            t = lib().seccomp_arch_resolve_name(arch);
            if (t == 0) {
                throw new IllegalArgumentException("seccomp: unknown architecture \"" + arch + "\" (libseccomp)");
            }
            tokens.put(arch, t);
        }
        return t & 0xffffffffL;
    }

    @Override
    public int syscallNumber(String arch, String name) {
        int nr = lib().seccomp_syscall_resolve_name_arch((int) archToken(arch), name);
        // libseccomp gives pseudo numbers (below -1) for syscalls an arch lacks, e.g. multiplexed ones
        return nr < 0 ? -1 : nr;
    }

    /** The name of syscall {@code nr} on the architecture with this audit token; null when libseccomp has none. */
    public String syscallName(Long archToken, Integer nr) {
        Pointer p = lib().seccomp_syscall_resolve_num_arch(archToken.intValue(), nr);
        if (p == null) {
            return null;
        }
        try {
            return p.getString(0);
        } finally {
            Native.free(Pointer.nativeValue(p)); // libseccomp strdup()s it
        }
    }

    @Override
    public long[] export(ResolvedFilter f) {
        Lib l = lib();
        Pointer ctx = l.seccomp_init(f.defaultAction());
        if (ctx == null) {
            throw new IllegalStateException("seccomp_init: failed for default action " + f.defaultAction());
        }
        try {
            // the init sets no_new_privs itself (or loads with CAP_SYS_ADMIN); nothing is loaded here anyway
            check(l.seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0), "seccomp_attr_set(SCMP_FLTATR_CTL_NNP)", f.name());
            // an ABI the filter does not know (x32 on x86_64, or any other) is answered as a kernel without it would
            check(l.seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SeccompAction.SCMP_ACT_ERRNO.value(38)),
                    "seccomp_attr_set(SCMP_FLTATR_ACT_BADARCH)", f.name());
            check(l.seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, OPTIMIZE_BINARY_TREE),
                    "seccomp_attr_set(SCMP_FLTATR_CTL_OPTIMIZE)", f.name());
            for (String arch : f.arches()) {
                int token = (int) archToken(arch);
                if (l.seccomp_arch_exist(ctx, token) != 0) {
                    check(l.seccomp_arch_add(ctx, token), "seccomp_arch_add(" + arch + ")", f.name());
                }
            }
            for (ResolvedFilter.Rule r : f.rules()) {
                addRule(l, ctx, f, r);
            }
            return exportBytes(l, ctx, f.name());
        } finally {
            l.seccomp_release(ctx);
        }
    }

    private void addRule(Lib l, Pointer ctx, ResolvedFilter f, ResolvedFilter.Rule r) {
        // the native number, or libseccomp's pseudo number for one the native arch lacks (socketcall on
        // x86_64): libseccomp maps it onto each architecture of the filter by name, as runc relies on
        int nr = l.seccomp_syscall_resolve_name(r.syscall());
        if (nr == NR_SCMP_ERROR && r.action() == SeccompAction.SCMP_ACT_NOTIFY.value(0)) {
            throw new IllegalArgumentException("seccomp listener: unknown syscall \"" + r.syscall() + "\" (libseccomp)");
        }
        if (nr == NR_SCMP_ERROR) {
            return; // unknown to libseccomp: profiles list syscalls of every architecture and kernel
        }
        Memory args = null;
        if (!r.args().isEmpty()) {
            args = new Memory((long) ARG_CMP_SIZE * r.args().size());
            for (int i = 0; i < r.args().size(); i++) {
                ArgCondition a = r.args().get(i);
                long off = (long) i * ARG_CMP_SIZE;
                args.setInt(off, a.index());
                args.setInt(off + 4, a.op().code());
                args.setLong(off + 8, a.value());
                args.setLong(off + 16, a.valueTwo());
            }
        }
        int rc = l.seccomp_rule_add_array(ctx, r.action(), nr, r.args().size(), args);
        check(rc, "seccomp_rule_add(" + r.syscall() + ")", f.name());
    }

    private static long[] exportBytes(Lib l, Pointer ctx, String name) {
        int fd = libc.memfd_create("berth-seccomp", MFD_CLOEXEC);
        try {
            check(l.seccomp_export_bpf(ctx, fd), "seccomp_export_bpf", name);
            return BpfProgram.fromBytes(Files.readAllBytes(Path.of("/proc/self/fd/" + fd)));
        } catch (IOException e) {
            throw new IllegalStateException("seccomp_export_bpf: reading the program back: " + e.getMessage(), e);
        } finally {
            libc.close(fd);
        }
    }

    /** libseccomp returns a negated errno. */
    private static void check(int rc, String call, String profile) {
        if (rc < 0) {
            throw new IllegalArgumentException("seccomp profile " + profile + ": " + call + ": " + libc.strerror(-rc));
        }
    }
}
