package dev.berth.core.internal.plan;

/**
 * Operations of the init plan. The numbers are the wire format and must match the
 * enum in {@code src/main/c/berth-init.c}; {@link #syscall()} names the call in errors.
 */
public enum OpCode {
    CLONE(1, "clone3"),
    WAIT_GO(2, "sync"),
    WRITE_FD(3, "write"),
    UNSHARE(4, "unshare"),
    MOUNT(5, "mount"),
    OPEN_ROOT(6, "open"),
    MKDIR(7, "mkdir"),
    MKNOD(8, "mknod"),
    SYMLINK(9, "symlink"),
    PIVOT_ROOT(10, "pivot_root"),
    MASK(11, "mask"),
    SETHOSTNAME(12, "sethostname"),
    LOOPBACK_UP(13, "ioctl(SIOCSIFFLAGS)"),
    SETRLIMIT(14, "setrlimit"),
    CAP_BOUNDING(15, "prctl(PR_CAPBSET_DROP)"),
    KEEPCAPS(16, "prctl(PR_SET_KEEPCAPS)"),
    SETGROUPS(17, "setgroups"),
    SETGID(18, "setresgid"),
    SETUID(19, "setresuid"),
    CAPSET(20, "capset"),
    AMBIENT(21, "prctl(PR_CAP_AMBIENT)"),
    NO_NEW_PRIVS(22, "prctl(PR_SET_NO_NEW_PRIVS)"),
    CHDIR(23, "chdir"),
    FORK(24, "fork"),
    EXEC(25, "exec"),
    REAP(26, "reap"),
    DUMPABLE(27, "prctl(PR_SET_DUMPABLE)"),
    SETSID(28, "setsid"),
    UMASK(29, "umask"),
    PDEATHSIG(30, "prctl(PR_SET_PDEATHSIG)"),
    CHOWN(31, "chown"),
    MKFILE(32, "open"),
    MOVE_MOUNT(33, "move_mount"),
    SYNC(34, "sync"),
    /**
     * argc, argv..., environment...: right after {@link #MONITOR} (with a state dir), before {@link #CLONE}:
     * the command the monitor starts, detached (double fork, own session, stdio on /dev/null and the state
     * dir's {@code exit-command.log}, no other fd, only this environment), once the container ended and its
     * {@code exit} record was written: a detached container's restart policy ({@code ExitCommand}).
     */
    EXIT_COMMAND(35, "execve"),
    /**
     * layer dir, then per entry path, uid, gid, mode: in a rootless container's init (the user namespace's
     * root, before the root is mounted), each entry opened beneath the layer ({@code openat2} with
     * {@code RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS}, {@code O_PATH | O_NOFOLLOW}: a symlink entry is itself
     * changed), given its owner ({@code fchownat(AT_EMPTY_PATH)}) and, unless a symlink, its mode back.
     */
    LAYER_OWNERS(36, "fchownat"),
    /**
     * dir: removes the directory and everything below it, depth first by fd, no symlink followed: a rootless
     * container's writable layer, run as the root of a user namespace with the container's mapping (files its
     * other users made are the user's subordinate ids', which the user cannot remove on the host).
     */
    REMOVE_TREE(37, "unlinkat"),
    /**
     * target, attributes ({@code MOUNT_ATTR_*}), resolve: the attributes added to the mount at the target and
     * to every mount below it ({@code mount_setattr} with {@code AT_RECURSIVE}); a rootless container's
     * recursive bind made read-only (a remount reaches the top mount only, not the host's submounts).
     */
    MOUNT_SETATTR(38, "mount_setattr"),
    /**
     * socket fd, target, resolve, last: receives one detached tree over the socket ({@code SCM_RIGHTS}; the JVM
     * sends them after writing a user namespace's maps) and moves it onto the target (a host path with
     * {@link Op#RESOLVE_PLAIN}, else resolved in the root); closes the tree, and the socket when last is 1.
     */
    /**
     * socket fd, open flags allowed, resolve flags required, resolve flags of which one is required: answers the
     * JVM's open requests (a path below a directory fd it sends, {@code SCM_RIGHTS}; openat2) with the opened fd or
     * an errno, until the JVM closes its end; a request outside the allowed flags is refused (EPERM). A rootless
     * copy's reader, run as the root of the user's namespace ({@link PlanCompiler#openFiles}).
     */
    OPEN_FILES(39, "openat2"),
    RECV_MOUNT(40, "move_mount"),
    /** rows, columns, console path: a pty of the container's devpts; the master goes to the JVM ('T'). */
    TTY_OPEN(45, "openpty"),
    /** uid: after SETSID, the pty becomes the target's stdio and controlling terminal, owned by uid. */
    TTY_ATTACH(46, "ioctl(TIOCSCTTY)"),
    /**
     * pidfd, CLONE_NEW* flags, root fd, operand: in the monitor, before {@link #CLONE}, to run a
     * process in a running container: the monitor turns non-dumpable, enters the namespaces of the
     * process the pidfd names (the PID namespace for its children) and takes its root.
     */
    ENTER(47, "setns"),
    /** pidfd, CLONE_NEW* flags (0: none), operand: setns in the plan's process, then closes the pidfd. */
    SETNS(48, "setns"),
    /**
     * flags ({@link #MONITOR_DETACH}, {@link #MONITOR_LOG}), state dir fd, log dir fd, log max bytes, log max
     * files: in the monitor, before {@link #CLONE}: how the monitor runs (a detached one outlives the JVM and
     * writes the exit status to the state dir's {@code exit}; a logging one captures stdout and stderr).
     */
    MONITOR(49, "open"),
    /**
     * name, flags, then one 8-byte argument per instruction ({@code struct sock_filter}): in the target,
     * {@code seccomp(SECCOMP_SET_MODE_FILTER)} of the program as handed; the last op before EXEC.
     */
    SECCOMP(53, "seccomp");

    /** {@link #MONITOR} flag: the container outlives the JVM. */
    public static final long MONITOR_DETACH = 1;
    /** {@link #MONITOR} flag: the container's stdout and stderr are captured to log files. */
    public static final long MONITOR_LOG = 2;

    private final int code;
    private final String syscall;

    OpCode(int code, String syscall) {
        this.code = code;
        this.syscall = syscall;
    }

    public int code() {
        return code;
    }

    public String syscall() {
        return syscall;
    }
}
