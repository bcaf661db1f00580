package dev.berth.core.internal.seccomp;

/**
 * What Berth needs of libseccomp: per-architecture syscall tables and the BPF generator
 * ({@code internal.linux.Libseccomp} over JNA; tests may use the same, it needs no privilege).
 */
public interface FilterBackend {

    /** The audit architecture ({@code AUDIT_ARCH_*}, libseccomp's token) of a libseccomp arch name. */
    long archToken(String arch);

    /** The syscall's number on that architecture, or -1 when it has no such syscall. */
    int syscallNumber(String arch, String name);

    /** The program libseccomp generates ({@code seccomp_export_bpf}). */
    long[] export(ResolvedFilter filter);
}
