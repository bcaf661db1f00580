package dev.berth.linux.internal;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * The one source of truth for every kernel and libc constant Berth's modules pass to or read
 * from Linux: flags, errno values, syscall numbers, struct sizes and offsets. Each value is
 * given for every {@link Arch}; the class picks the running JVM's at initialisation.
 *
 * <p>Each module keeps the constants it uses behind its own {@code Syscalls} interface (or
 * {@code LinuxFs}), defined as these fields, so its tests can use fakes and this class stays
 * free of JNA.
 *
 * <p>The build checks every entry of {@link #table()} against the C headers of both
 * architectures: {@link HeaderCheck} writes one {@code _Static_assert} per entry and
 * {@code src/build/check-constants.sh} compiles that with gcc and aarch64-linux-gnu-gcc, so a
 * value copied from the wrong architecture (as {@code O_DIRECTORY} once was: x86_64's 0200000
 * is {@code O_DIRECT} on aarch64) fails the build. Add a constant with {@link #common} when
 * the headers agree on every architecture, {@link #perArch} when they differ; the C name is
 * the field name unless given.
 */
public final class LinuxConstants {

    /** One entry: the Java field, the C expression the headers define, and its value per architecture. */
    public record Constant(String name, String cExpression, long x86_64, long aarch64) {
        public long value(Arch arch) {
            return switch (arch) {
                case X86_64 -> x86_64;
                case AARCH64 -> aarch64;
            };
        }
    }

    // Both are initialised before the first constant below (textual order): every helper needs them.
    private static final Arch ARCH = Arch.current();
    private static final List<Constant> TABLE = new ArrayList<>();

    // <fcntl.h>: open(2) flags. O_DIRECTORY and O_NOFOLLOW are the asm-generic values on aarch64.
    public static final int O_RDONLY = common("O_RDONLY", 0);
    public static final int O_WRONLY = common("O_WRONLY", 1);
    public static final int O_RDWR = common("O_RDWR", 2);
    public static final int O_CREAT = common("O_CREAT", 0100);
    public static final int O_EXCL = common("O_EXCL", 0200);
    public static final int O_NOCTTY = common("O_NOCTTY", 0400);
    public static final int O_TRUNC = common("O_TRUNC", 01000);
    public static final int O_APPEND = common("O_APPEND", 02000);
    public static final int O_NONBLOCK = common("O_NONBLOCK", 04000);
    public static final int O_DIRECTORY = perArch("O_DIRECTORY", 0200000, 040000);
    public static final int O_NOFOLLOW = perArch("O_NOFOLLOW", 0400000, 0100000);
    public static final int O_CLOEXEC = common("O_CLOEXEC", 02000000);
    public static final int O_PATH = common("O_PATH", 010000000);

    // <fcntl.h>: the *at() calls.
    public static final int AT_FDCWD = common("AT_FDCWD", -100);
    public static final int AT_SYMLINK_NOFOLLOW = common("AT_SYMLINK_NOFOLLOW", 0x100);
    public static final int AT_REMOVEDIR = common("AT_REMOVEDIR", 0x200);
    public static final int AT_EMPTY_PATH = common("AT_EMPTY_PATH", 0x1000);

    // <linux/openat2.h>: struct open_how.resolve.
    public static final long RESOLVE_NO_XDEV = common("RESOLVE_NO_XDEV", 0x01L);
    public static final long RESOLVE_NO_MAGICLINKS = common("RESOLVE_NO_MAGICLINKS", 0x02L);
    public static final long RESOLVE_NO_SYMLINKS = common("RESOLVE_NO_SYMLINKS", 0x04L);
    public static final long RESOLVE_BENEATH = common("RESOLVE_BENEATH", 0x08L);
    public static final long RESOLVE_IN_ROOT = common("RESOLVE_IN_ROOT", 0x10L);

    // <sys/syscall.h>: calls glibc 2.36 has no wrapper for. Numbers from 424 on are shared by
    // every architecture; older calls (bpf: 321 on x86_64, 280 on aarch64) are not.
    public static final long SYS_PIDFD_SEND_SIGNAL = common("SYS_PIDFD_SEND_SIGNAL", "SYS_pidfd_send_signal", 424L);
    public static final long SYS_PIDFD_OPEN = common("SYS_PIDFD_OPEN", "SYS_pidfd_open", 434L);
    public static final long SYS_OPENAT2 = common("SYS_OPENAT2", "SYS_openat2", 437L);
    public static final long SYS_BPF = perArch("SYS_BPF", "SYS_bpf", 321L, 280L);

    // <linux/bpf.h>: the cgroup device program (commands, program and attach types, flags).
    public static final int BPF_PROG_LOAD = common("BPF_PROG_LOAD", 5);
    public static final int BPF_PROG_ATTACH = common("BPF_PROG_ATTACH", 8);
    public static final int BPF_PROG_DETACH = common("BPF_PROG_DETACH", 9);
    public static final int BPF_PROG_GET_FD_BY_ID = common("BPF_PROG_GET_FD_BY_ID", 13);
    public static final int BPF_PROG_QUERY = common("BPF_PROG_QUERY", 16);
    public static final int BPF_PROG_TYPE_CGROUP_DEVICE = common("BPF_PROG_TYPE_CGROUP_DEVICE", 15);
    public static final int BPF_CGROUP_DEVICE = common("BPF_CGROUP_DEVICE", 6);
    public static final int BPF_F_ALLOW_MULTI = common("BPF_F_ALLOW_MULTI", 2);
    // struct bpf_cgroup_dev_ctx: device type (low 16 bits of access_type) and access (high 16 bits)
    public static final int BPF_DEVCG_DEV_BLOCK = common("BPF_DEVCG_DEV_BLOCK", 1);
    public static final int BPF_DEVCG_DEV_CHAR = common("BPF_DEVCG_DEV_CHAR", 2);
    public static final int BPF_DEVCG_ACC_MKNOD = common("BPF_DEVCG_ACC_MKNOD", 1);
    public static final int BPF_DEVCG_ACC_READ = common("BPF_DEVCG_ACC_READ", 2);
    public static final int BPF_DEVCG_ACC_WRITE = common("BPF_DEVCG_ACC_WRITE", 4);
    // the eBPF opcodes the device program uses: class | operation | source
    public static final int BPF_OP_LDX_MEM_W = common("BPF_OP_LDX_MEM_W", "(BPF_LDX | BPF_MEM | BPF_W)", 0x61);
    public static final int BPF_OP_ALU64_MOV_X = common("BPF_OP_ALU64_MOV_X", "(BPF_ALU64 | BPF_MOV | BPF_X)", 0xbf);
    public static final int BPF_OP_ALU64_MOV_K = common("BPF_OP_ALU64_MOV_K", "(BPF_ALU64 | BPF_MOV | BPF_K)", 0xb7);
    public static final int BPF_OP_ALU64_AND_K = common("BPF_OP_ALU64_AND_K", "(BPF_ALU64 | BPF_AND | BPF_K)", 0x57);
    public static final int BPF_OP_ALU64_RSH_K = common("BPF_OP_ALU64_RSH_K", "(BPF_ALU64 | BPF_RSH | BPF_K)", 0x77);
    public static final int BPF_OP_JMP_JEQ_K = common("BPF_OP_JMP_JEQ_K", "(BPF_JMP | BPF_JEQ | BPF_K)", 0x15);
    public static final int BPF_OP_JMP_JNE_K = common("BPF_OP_JMP_JNE_K", "(BPF_JMP | BPF_JNE | BPF_K)", 0x55);
    public static final int BPF_OP_JMP_EXIT = common("BPF_OP_JMP_EXIT", "(BPF_JMP | BPF_EXIT)", 0x95);

    // <unistd.h>: sysconf names.
    public static final int SC_ARG_MAX = common("SC_ARG_MAX", "_SC_ARG_MAX", 0);

    // <sys/mman.h>, <fcntl.h>: sealed memfds.
    public static final int MFD_CLOEXEC = common("MFD_CLOEXEC", 1);
    public static final int MFD_ALLOW_SEALING = common("MFD_ALLOW_SEALING", 2);
    public static final int F_ADD_SEALS = common("F_ADD_SEALS", 1033);
    public static final int F_SEAL_SEAL = common("F_SEAL_SEAL", 1);
    public static final int F_SEAL_SHRINK = common("F_SEAL_SHRINK", 2);
    public static final int F_SEAL_GROW = common("F_SEAL_GROW", 4);
    public static final int F_SEAL_WRITE = common("F_SEAL_WRITE", 8);
    public static final int F_GET_SEALS = common("F_GET_SEALS", 1034);

    // <sys/socket.h>
    public static final int AF_UNIX = common("AF_UNIX", 1);
    public static final int SOCK_SEQPACKET = common("SOCK_SEQPACKET", 5);
    public static final int SOCK_CLOEXEC = common("SOCK_CLOEXEC", 02000000);

    // <sys/epoll.h>: struct epoll_event is packed on x86_64 only.
    public static final int EPOLL_CTL_ADD = common("EPOLL_CTL_ADD", 1);
    public static final int EPOLLIN = common("EPOLLIN", 0x1);
    public static final int EPOLL_EVENT_SIZE = perArch("EPOLL_EVENT_SIZE", "sizeof(struct epoll_event)", 12, 16);
    public static final int EPOLL_DATA_OFFSET =
            perArch("EPOLL_DATA_OFFSET", "offsetof(struct epoll_event, data)", 4, 8);

    // <poll.h>
    public static final int POLLIN = common("POLLIN", 1);

    // <sys/socket.h>, <sys/uio.h>: one fd passed as SCM_RIGHTS (a container's pty master), the
    // struct msghdr, iovec and cmsghdr layouts recvmsg fills (the same on both LP64 architectures).
    public static final int SOL_SOCKET = common("SOL_SOCKET", 1);
    public static final int SCM_RIGHTS = common("SCM_RIGHTS", 1);
    public static final int MSG_CTRUNC = common("MSG_CTRUNC", 0x8);
    public static final int MSG_NOSIGNAL = common("MSG_NOSIGNAL", 0x4000);
    public static final int MSG_CMSG_CLOEXEC = common("MSG_CMSG_CLOEXEC", 0x40000000);
    public static final int MSGHDR_SIZE = common("MSGHDR_SIZE", "sizeof(struct msghdr)", 56);
    public static final int MSGHDR_IOV_OFFSET = common("MSGHDR_IOV_OFFSET", "offsetof(struct msghdr, msg_iov)", 16);
    public static final int MSGHDR_IOVLEN_OFFSET =
            common("MSGHDR_IOVLEN_OFFSET", "offsetof(struct msghdr, msg_iovlen)", 24);
    public static final int MSGHDR_CONTROL_OFFSET =
            common("MSGHDR_CONTROL_OFFSET", "offsetof(struct msghdr, msg_control)", 32);
    public static final int MSGHDR_CONTROLLEN_OFFSET =
            common("MSGHDR_CONTROLLEN_OFFSET", "offsetof(struct msghdr, msg_controllen)", 40);
    public static final int MSGHDR_FLAGS_OFFSET = common("MSGHDR_FLAGS_OFFSET", "offsetof(struct msghdr, msg_flags)", 48);
    public static final int IOVEC_SIZE = common("IOVEC_SIZE", "sizeof(struct iovec)", 16);
    public static final int IOVEC_LEN_OFFSET = common("IOVEC_LEN_OFFSET", "offsetof(struct iovec, iov_len)", 8);
    public static final int CMSG_LEVEL_OFFSET = common("CMSG_LEVEL_OFFSET", "offsetof(struct cmsghdr, cmsg_level)", 8);
    public static final int CMSG_TYPE_OFFSET = common("CMSG_TYPE_OFFSET", "offsetof(struct cmsghdr, cmsg_type)", 12);
    public static final int CMSG_DATA_OFFSET = common("CMSG_DATA_OFFSET", "CMSG_LEN(0)", 16);
    public static final int CMSG_LEN_FD = common("CMSG_LEN_FD", "CMSG_LEN(sizeof(int))", 20);
    public static final int CMSG_SPACE_FD = common("CMSG_SPACE_FD", "CMSG_SPACE(sizeof(int))", 24);

    // <sys/ioctl.h>, <termios.h>: terminals. The tty ioctls are asm-generic's on both architectures;
    // struct termios is glibc's (the one tcgetattr fills), not the kernel's.
    public static final int TIOCGWINSZ = common("TIOCGWINSZ", 0x5413);
    public static final int TIOCSWINSZ = common("TIOCSWINSZ", 0x5414);
    public static final int WINSIZE_SIZE = common("WINSIZE_SIZE", "sizeof(struct winsize)", 8);
    public static final int TERMIOS_SIZE = common("TERMIOS_SIZE", "sizeof(struct termios)", 60);
    public static final int TCSANOW = common("TCSANOW", 0);
    public static final int F_DUPFD_CLOEXEC = common("F_DUPFD_CLOEXEC", 1030);

    // <sys/wait.h>, <spawn.h> (glibc), <signal.h>
    public static final int WNOHANG = common("WNOHANG", 1);
    public static final int POSIX_SPAWN_SETSIGDEF = common("POSIX_SPAWN_SETSIGDEF", 0x04);
    public static final int POSIX_SPAWN_SETSIGMASK = common("POSIX_SPAWN_SETSIGMASK", 0x08);
    public static final int POSIX_SPAWN_SETSID = common("POSIX_SPAWN_SETSID", 0x80);
    public static final int SIGKILL = common("SIGKILL", 9);
    public static final int SIGTERM = common("SIGTERM", 15);
    /** Hang-up (1). */
    public static final int SIGHUP = common("SIGHUP", 1);

    // <errno.h>
    public static final int EPERM = common("EPERM", 1);
    public static final int ENOENT = common("ENOENT", 2);
    public static final int ESRCH = common("ESRCH", 3);
    public static final int EINTR = common("EINTR", 4);
    public static final int EIO = common("EIO", 5);
    public static final int EAGAIN = common("EAGAIN", 11);
    public static final int EACCES = common("EACCES", 13);
    public static final int EBUSY = common("EBUSY", 16);
    public static final int EEXIST = common("EEXIST", 17);
    public static final int EXDEV = common("EXDEV", 18);
    public static final int ENOTDIR = common("ENOTDIR", 20);
    public static final int EINVAL = common("EINVAL", 22);
    public static final int ENAMETOOLONG = common("ENAMETOOLONG", 36);
    public static final int ERANGE = common("ERANGE", 34);
    public static final int ENOSYS = common("ENOSYS", 38);
    public static final int ENOTEMPTY = common("ENOTEMPTY", 39);
    public static final int ELOOP = common("ELOOP", 40);
    public static final int ENODATA = common("ENODATA", 61);
    public static final int EOPNOTSUPP = common("EOPNOTSUPP", 95);

    // <sys/stat.h>: file types, and struct statx (the fields the layer unpacker reads).
    public static final int S_IFMT = common("S_IFMT", 0170000);
    public static final int S_IFDIR = common("S_IFDIR", 0040000);
    public static final int S_IFREG = common("S_IFREG", 0100000);
    public static final int S_IFLNK = common("S_IFLNK", 0120000);
    public static final int S_IFCHR = common("S_IFCHR", 0020000);
    public static final int S_IFBLK = common("S_IFBLK", 0060000);
    public static final int S_IFIFO = common("S_IFIFO", 0010000);
    public static final int STATX_BASIC_STATS = common("STATX_BASIC_STATS", 0x7ff);
    public static final int STATX_UID_OFFSET = common("STATX_UID_OFFSET", "offsetof(struct statx, stx_uid)", 20);
    public static final int STATX_GID_OFFSET = common("STATX_GID_OFFSET", "offsetof(struct statx, stx_gid)", 24);
    public static final int STATX_MODE_OFFSET = common("STATX_MODE_OFFSET", "offsetof(struct statx, stx_mode)", 28);
    public static final int STATX_INO_OFFSET = common("STATX_INO_OFFSET", "offsetof(struct statx, stx_ino)", 32);
    public static final int STATX_NLINK_OFFSET = common("STATX_NLINK_OFFSET", "offsetof(struct statx, stx_nlink)", 16);
    public static final int STATX_SIZE_OFFSET = common("STATX_SIZE_OFFSET", "offsetof(struct statx, stx_size)", 40);
    public static final int STATX_MTIME_OFFSET = common("STATX_MTIME_OFFSET", "offsetof(struct statx, stx_mtime)", 112);
    public static final int STATX_RDEV_MAJOR_OFFSET =
            common("STATX_RDEV_MAJOR_OFFSET", "offsetof(struct statx, stx_rdev_major)", 128);
    public static final int STATX_RDEV_MINOR_OFFSET =
            common("STATX_RDEV_MINOR_OFFSET", "offsetof(struct statx, stx_rdev_minor)", 132);
    public static final int STATX_DEV_MAJOR_OFFSET =
            common("STATX_DEV_MAJOR_OFFSET", "offsetof(struct statx, stx_dev_major)", 136);
    public static final int STATX_DEV_MINOR_OFFSET =
            common("STATX_DEV_MINOR_OFFSET", "offsetof(struct statx, stx_dev_minor)", 140);

    // <sys/mount.h>: mount(2) flags the plan compiler sets.
    public static final long MS_RDONLY = common("MS_RDONLY", 1L);
    public static final long MS_NOSUID = common("MS_NOSUID", 2L);
    public static final long MS_NODEV = common("MS_NODEV", 4L);
    public static final long MS_NOEXEC = common("MS_NOEXEC", 8L);
    public static final long MS_REMOUNT = common("MS_REMOUNT", 32L);
    public static final long MS_BIND = common("MS_BIND", 4096L);
    public static final long MS_REC = common("MS_REC", 16384L);
    public static final long MS_PRIVATE = common("MS_PRIVATE", 1L << 18);
    public static final long MS_STRICTATIME = common("MS_STRICTATIME", 1L << 24);
    /** umount2(2) flags: the JVM unpins a container's network namespace (runtime-core's net package). */
    public static final int MNT_DETACH = common("MNT_DETACH", 2);
    public static final int UMOUNT_NOFOLLOW = common("UMOUNT_NOFOLLOW", 8);

    // <sched.h>: the namespaces clone3 creates.
    public static final long CLONE_NEWNS = common("CLONE_NEWNS", 0x00020000L);
    public static final long CLONE_NEWCGROUP = common("CLONE_NEWCGROUP", 0x02000000L);
    public static final long CLONE_NEWUTS = common("CLONE_NEWUTS", 0x04000000L);
    public static final long CLONE_NEWIPC = common("CLONE_NEWIPC", 0x08000000L);
    public static final long CLONE_NEWPID = common("CLONE_NEWPID", 0x20000000L);
    public static final long CLONE_NEWNET = common("CLONE_NEWNET", 0x40000000L);
    public static final long CLONE_NEWUSER = common("CLONE_NEWUSER", 0x10000000L);

    // <linux/magic.h>: statfs f_type of the cgroup mounts.
    public static final long CGROUP2_SUPER_MAGIC = common("CGROUP2_SUPER_MAGIC", 0x63677270L);
    public static final long CGROUP_SUPER_MAGIC = common("CGROUP_SUPER_MAGIC", 0x27e0ebL);
    public static final long TMPFS_MAGIC = common("TMPFS_MAGIC", 0x01021994L);

    // <sys/inotify.h>
    public static final int IN_MODIFY = common("IN_MODIFY", 0x00000002);
    public static final int IN_IGNORED = common("IN_IGNORED", 0x00008000);
    public static final int IN_NONBLOCK = common("IN_NONBLOCK", 0x800);
    public static final int IN_CLOEXEC = common("IN_CLOEXEC", 0x80000);

    // <sys/mount.h>, <fcntl.h>, <sys/syscall.h>: the new mount API (open_tree and move_mount 5.2,
    // mount_setattr 5.12); the syscall numbers are the asm-generic ones on every architecture.
    public static final long SYS_OPEN_TREE = common("SYS_OPEN_TREE", "SYS_open_tree", 428L);
    public static final long SYS_MOVE_MOUNT = common("SYS_MOVE_MOUNT", "SYS_move_mount", 429L);
    public static final long SYS_MOUNT_SETATTR = common("SYS_MOUNT_SETATTR", "SYS_mount_setattr", 442L);
    public static final int OPEN_TREE_CLONE = common("OPEN_TREE_CLONE", 1);
    public static final int OPEN_TREE_CLOEXEC = common("OPEN_TREE_CLOEXEC", 02000000);
    public static final int AT_RECURSIVE = common("AT_RECURSIVE", 0x8000);
    public static final long MOUNT_ATTR_RDONLY = common("MOUNT_ATTR_RDONLY", 0x1L);
    public static final long MOUNT_ATTR_NOSUID = common("MOUNT_ATTR_NOSUID", 0x2L);
    public static final long MOUNT_ATTR_NODEV = common("MOUNT_ATTR_NODEV", 0x4L);
    public static final long MOUNT_ATTR_NOEXEC = common("MOUNT_ATTR_NOEXEC", 0x8L);
    /** mount_setattr: the mount maps ids through the user namespace in {@code userns_fd} (5.12). */
    public static final long MOUNT_ATTR_IDMAP = common("MOUNT_ATTR_IDMAP", 0x00100000L);
    public static final int MOUNT_ATTR_SIZE_VER0 = common("MOUNT_ATTR_SIZE_VER0", 32);
    // the filesystem context API (5.2): the overlay of a user-namespaced container's root over idmapped layers
    public static final long SYS_FSOPEN = common("SYS_FSOPEN", "SYS_fsopen", 430L);
    public static final long SYS_FSCONFIG = common("SYS_FSCONFIG", "SYS_fsconfig", 431L);
    public static final long SYS_FSMOUNT = common("SYS_FSMOUNT", "SYS_fsmount", 432L);
    public static final int FSOPEN_CLOEXEC = common("FSOPEN_CLOEXEC", 1);
    public static final int FSMOUNT_CLOEXEC = common("FSMOUNT_CLOEXEC", 1);
    public static final int FSCONFIG_SET_STRING = common("FSCONFIG_SET_STRING", 1);
    public static final int FSCONFIG_CMD_CREATE = common("FSCONFIG_CMD_CREATE", 6);
    public static final long MS_SLAVE = common("MS_SLAVE", 1L << 19);
    public static final long MS_SHARED = common("MS_SHARED", 1L << 20);

    // <sys/file.h>: flock(2), the volumes' in-use locks.
    public static final int LOCK_SH = common("LOCK_SH", 1);
    public static final int LOCK_EX = common("LOCK_EX", 2);
    public static final int LOCK_NB = common("LOCK_NB", 4);
    public static final int EWOULDBLOCK = common("EWOULDBLOCK", 11);

    // <linux/seccomp.h>, <linux/filter.h>, <linux/audit.h>: the classic BPF of a seccomp filter (the ENOSYS
    // stub put before libseccomp's program, the range dispatch) and the architectures it checks.
    public static final int SECCOMP_RET_ERRNO = common("SECCOMP_RET_ERRNO", 0x00050000);
    public static final int SECCOMP_RET_DATA = common("SECCOMP_RET_DATA", 0x0000ffff);
    public static final int SECCOMP_DATA_NR = common("SECCOMP_DATA_NR", "offsetof(struct seccomp_data, nr)", 0);
    public static final int SECCOMP_DATA_ARCH = common("SECCOMP_DATA_ARCH", "offsetof(struct seccomp_data, arch)", 4);
    public static final int BPF_LD_W_ABS = common("BPF_LD_W_ABS", "(BPF_LD | BPF_W | BPF_ABS)", 0x20);
    public static final int BPF_JMP_JA = common("BPF_JMP_JA", "(BPF_JMP | BPF_JA)", 0x05);
    public static final int BPF_JMP_JEQ_K = common("BPF_JMP_JEQ_K", "(BPF_JMP | BPF_JEQ | BPF_K)", 0x15);
    public static final int BPF_JMP_JGT_K = common("BPF_JMP_JGT_K", "(BPF_JMP | BPF_JGT | BPF_K)", 0x25);
    public static final int BPF_RET_K = common("BPF_RET_K", "(BPF_RET | BPF_K)", 0x06);
    // what else libseccomp's programs hold (argument masks and comparisons), for SeccompCompiler's equivalence walk
    public static final int BPF_JMP_JGE_K = common("BPF_JMP_JGE_K", "(BPF_JMP | BPF_JGE | BPF_K)", 0x35);
    public static final int BPF_JMP_JSET_K = common("BPF_JMP_JSET_K", "(BPF_JMP | BPF_JSET | BPF_K)", 0x45);
    public static final int BPF_ALU_AND_K = common("BPF_ALU_AND_K", "(BPF_ALU | BPF_AND | BPF_K)", 0x54);
    public static final int BPF_MAXINSNS = common("BPF_MAXINSNS", 4096);
    public static final long AUDIT_ARCH_X86_64 = common("AUDIT_ARCH_X86_64", 0xc000003eL);
    public static final long AUDIT_ARCH_I386 = common("AUDIT_ARCH_I386", 0x40000003L);
    public static final long AUDIT_ARCH_AARCH64 = common("AUDIT_ARCH_AARCH64", 0xc00000b7L);
    public static final long AUDIT_ARCH_ARM = common("AUDIT_ARCH_ARM", 0x40000028L);
    // seccomp user notification: the filter's listener fd, on which a supervisor receives syscalls and answers them.
    public static final int SECCOMP_FILTER_FLAG_NEW_LISTENER = common("SECCOMP_FILTER_FLAG_NEW_LISTENER", 8);
    public static final long SECCOMP_IOCTL_NOTIF_RECV = common("SECCOMP_IOCTL_NOTIF_RECV", 0xc0502100L);
    public static final long SECCOMP_IOCTL_NOTIF_SEND = common("SECCOMP_IOCTL_NOTIF_SEND", 0xc0182101L);
    public static final int SECCOMP_USER_NOTIF_FLAG_CONTINUE = common("SECCOMP_USER_NOTIF_FLAG_CONTINUE", 1);
    public static final int SECCOMP_NOTIF_SIZE = common("SECCOMP_NOTIF_SIZE", "sizeof(struct seccomp_notif)", 80);
    public static final int SECCOMP_NOTIF_RESP_SIZE =
            common("SECCOMP_NOTIF_RESP_SIZE", "sizeof(struct seccomp_notif_resp)", 24);
    public static final int POLLHUP = common("POLLHUP", 0x10);

    private LinuxConstants() {}

    /** The architecture whose values the fields hold. */
    public static Arch arch() {
        return ARCH;
    }

    /** Every constant with its values for every architecture, in declaration order. */
    public static List<Constant> table() {
        return Collections.unmodifiableList(TABLE);
    }

    private static int common(String name, int value) {
        return perArch(name, name, value, value);
    }

    private static int common(String name, String cExpression, int value) {
        return perArch(name, cExpression, value, value);
    }

    private static long common(String name, long value) {
        return perArch(name, name, value, value);
    }

    private static long common(String name, String cExpression, long value) {
        return perArch(name, cExpression, value, value);
    }

    private static int perArch(String name, int x86_64, int aarch64) {
        return perArch(name, name, x86_64, aarch64);
    }

    private static int perArch(String name, String cExpression, int x86_64, int aarch64) {
        return (int) perArch(name, cExpression, (long) x86_64, (long) aarch64);
    }

    private static long perArch(String name, String cExpression, long x86_64, long aarch64) {
        Constant c = new Constant(name, cExpression, x86_64, aarch64);
        TABLE.add(c);
        return c.value(ARCH);
    }
}
