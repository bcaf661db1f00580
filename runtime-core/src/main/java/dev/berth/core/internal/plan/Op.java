package dev.berth.core.internal.plan;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * One operation of an init plan: an op code, flags and arguments, each argument a
 * {@link String} (sent as UTF-8 bytes) or a {@link Long} (sent as 8 little-endian bytes).
 */
public record Op(OpCode code, int flags, List<Object> args) {

    /** Op flag: a missing path (ENOENT) is not an error. */
    public static final int OPTIONAL = 1;
    /**
     * Op flag of a remount: the init adds the target mount's current flags (statvfs), so that
     * making a mount read-only or nodev never clears a nosuid or noexec it had from the host.
     */
    public static final int KEEP_FLAGS = 2;
    /**
     * Op flag of a mount onto a path in the root: the init refuses (EPERM) a target that resolves
     * onto procfs, so that no mount of the spec, reached through a symlink the image planted
     * ({@code /data -> /proc}), lands on the container's /proc (runc's rule, CVE-2019-19921).
     */
    public static final int NOT_ON_PROCFS = 4;

    /** Mount target resolution: a plain path. */
    public static final long RESOLVE_PLAIN = 0;
    /** Mount target resolution: below the opened root; symlinks cannot leave it. */
    public static final long RESOLVE_IN_ROOT = 1;
    /** Mount target resolution: below the opened root, no symlink anywhere on the path. */
    public static final long RESOLVE_IN_ROOT_NO_SYMLINKS = 2;

    public Op {
        Objects.requireNonNull(code, "code");
        args = List.copyOf(args);
        for (Object a : args) {
            if (!(a instanceof String) && !(a instanceof Long)) {
                throw new IllegalArgumentException("op argument must be String or Long: " + a);
            }
        }
    }

    public static Op of(OpCode code, Object... args) {
        return new Op(code, 0, List.of(args));
    }

    public Op optional() {
        return new Op(code, flags | OPTIONAL, args);
    }

    /** A mount whose target must not resolve onto procfs (see {@link #NOT_ON_PROCFS}). */
    public Op notOnProcfs() {
        return new Op(code, flags | NOT_ON_PROCFS, args);
    }

    /** A remount that keeps the flags the mount already has (see {@link #KEEP_FLAGS}). */
    public Op keepingFlags() {
        return new Op(code, flags | KEEP_FLAGS, args);
    }

    public static Op clone(long flags, long cgroupFd) {
        return of(OpCode.CLONE, flags, cgroupFd);
    }

    /**
     * A CLONE whose namespaces belong to the user namespace open at {@code usernsFd} in the monitor (which closes
     * it): the init is cloned into it by a short-lived child of the monitor that joined it; {@code flags} then
     * holds no {@code CLONE_NEWUSER}. A negative fd is a plain {@link #clone}.
     */
    public static Op clone(long flags, long cgroupFd, int usernsFd) {
        return usernsFd < 0 ? clone(flags, cgroupFd) : of(OpCode.CLONE, flags, cgroupFd, (long) usernsFd);
    }

    public static Op mount(String source, String target, String fstype, long flags, String data, long resolve) {
        return of(OpCode.MOUNT, source, target, fstype, flags, data, resolve);
    }

    public static Op writeFd(int fd, String data, String what) {
        return of(OpCode.WRITE_FD, (long) fd, data, what);
    }

    public static Op setrlimit(int resource, long soft, long hard, String name) {
        return of(OpCode.SETRLIMIT, (long) resource, soft, hard, name);
    }

    public static Op setgroups(List<Long> gids) {
        return new Op(OpCode.SETGROUPS, 0, new ArrayList<>(gids));
    }

    public static Op exec(List<String> argv, List<String> env) {
        List<Object> a = new ArrayList<>();
        a.add((long) argv.size());
        a.addAll(argv);
        a.addAll(env);
        return new Op(OpCode.EXEC, 0, a);
    }

    /** The monitor's exit command ({@link OpCode#EXIT_COMMAND}): argv[0] is an absolute path; env as given. */
    public static Op exitCommand(List<String> argv, List<String> env) {
        if (argv.isEmpty() || !argv.get(0).startsWith("/")) {
            throw new IllegalArgumentException("exit command: argv[0] must be an absolute path, got " + argv);
        }
        List<Object> a = new ArrayList<>();
        a.add((long) argv.size());
        a.addAll(argv);
        a.addAll(env);
        return new Op(OpCode.EXIT_COMMAND, 0, a);
    }

    /** Loads a seccomp program: its name (for errors), its flags, then one long per instruction. */
    public static Op seccomp(String name, dev.berth.core.internal.seccomp.BpfProgram program) {
        List<Object> a = new ArrayList<>();
        a.add(name);
        a.add(program.flags());
        for (long insn : program.instructions()) {
            a.add(insn);
        }
        return new Op(OpCode.SECCOMP, 0, a);
    }

    /** The operand an error message names for this op: its first string argument, or the syscall alone. */
    public String operand() {
        return switch (code) {
            case MOUNT, SYMLINK, RECV_MOUNT -> (String) args.get(1);
            case WRITE_FD -> (String) args.get(2);
            case SETRLIMIT -> (String) args.get(3);
            case EXEC -> (String) args.get(1);
            default -> args.stream().filter(String.class::isInstance).map(String.class::cast).findFirst().orElse("");
        };
    }

    @Override
    public String toString() {
        StringBuilder b = new StringBuilder(code.name());
        if ((flags & OPTIONAL) != 0) {
            b.append('?');
        }
        if ((flags & KEEP_FLAGS) != 0) {
            b.append('+');
        }
        if (code == OpCode.SECCOMP) {
            return b.append('[').append(args.get(0)).append(", flags ").append(args.get(1)).append(", ")
                    .append(args.size() - 2).append(" instructions]").toString();
        }
        b.append(args);
        return b.toString();
    }
}
