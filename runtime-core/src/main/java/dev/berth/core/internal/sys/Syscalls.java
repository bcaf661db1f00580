package dev.berth.core.internal.sys;

import dev.berth.linux.internal.LinuxConstants;
import java.util.List;
import java.util.Map;

/**
 * The kernel interface runtime-core needs from the JVM side: only calls that are
 * safe in a multi-threaded process. Everything that must happen in a fresh,
 * single-threaded process is done by the native init stage instead.
 *
 * <p>Failures throw {@link SyscallException} carrying the syscall, operand and errno.
 * The JNA implementation lives in {@code dev.berth.core.internal.linux}; tests use a
 * recording fake. The constants' values come from {@link LinuxConstants}, per architecture
 * and checked against the C headers in the build.
 */
public interface Syscalls {

    int O_RDONLY = LinuxConstants.O_RDONLY;
    int O_WRONLY = LinuxConstants.O_WRONLY;
    int O_RDWR = LinuxConstants.O_RDWR;
    int O_CREAT = LinuxConstants.O_CREAT;
    int O_TRUNC = LinuxConstants.O_TRUNC;
    int O_APPEND = LinuxConstants.O_APPEND;
    int O_NONBLOCK = LinuxConstants.O_NONBLOCK;
    int O_DIRECTORY = LinuxConstants.O_DIRECTORY;
    int O_NOFOLLOW = LinuxConstants.O_NOFOLLOW;
    int O_EXCL = LinuxConstants.O_EXCL;

    int S_IFMT = LinuxConstants.S_IFMT;
    int S_IFDIR = LinuxConstants.S_IFDIR;
    int S_IFREG = LinuxConstants.S_IFREG;
    int S_IFLNK = LinuxConstants.S_IFLNK;
    int S_IFCHR = LinuxConstants.S_IFCHR;
    int S_IFBLK = LinuxConstants.S_IFBLK;
    int S_IFIFO = LinuxConstants.S_IFIFO;
    int O_CLOEXEC = LinuxConstants.O_CLOEXEC;
    int O_PATH = LinuxConstants.O_PATH;

    long RESOLVE_NO_MAGICLINKS = LinuxConstants.RESOLVE_NO_MAGICLINKS;
    long RESOLVE_NO_SYMLINKS = LinuxConstants.RESOLVE_NO_SYMLINKS;
    long RESOLVE_IN_ROOT = LinuxConstants.RESOLVE_IN_ROOT;
    long RESOLVE_BENEATH = LinuxConstants.RESOLVE_BENEATH;

    int MFD_CLOEXEC = LinuxConstants.MFD_CLOEXEC;
    int MFD_ALLOW_SEALING = LinuxConstants.MFD_ALLOW_SEALING;
    int F_SEAL_SEAL = LinuxConstants.F_SEAL_SEAL;
    int F_SEAL_SHRINK = LinuxConstants.F_SEAL_SHRINK;
    int F_SEAL_GROW = LinuxConstants.F_SEAL_GROW;
    int F_SEAL_WRITE = LinuxConstants.F_SEAL_WRITE;

    int SIGKILL = LinuxConstants.SIGKILL;
    int SIGTERM = LinuxConstants.SIGTERM;
    int SIGHUP = LinuxConstants.SIGHUP;

    // The new mount API (bind mounts and volumes) and flock (volumes in use).
    int AT_FDCWD = LinuxConstants.AT_FDCWD;
    int AT_EMPTY_PATH = LinuxConstants.AT_EMPTY_PATH;
    int AT_RECURSIVE = LinuxConstants.AT_RECURSIVE;
    int OPEN_TREE_CLONE = LinuxConstants.OPEN_TREE_CLONE;
    int OPEN_TREE_CLOEXEC = LinuxConstants.OPEN_TREE_CLOEXEC;
    long MOUNT_ATTR_RDONLY = LinuxConstants.MOUNT_ATTR_RDONLY;
    long MOUNT_ATTR_NOSUID = LinuxConstants.MOUNT_ATTR_NOSUID;
    long MOUNT_ATTR_NODEV = LinuxConstants.MOUNT_ATTR_NODEV;
    long MOUNT_ATTR_NOEXEC = LinuxConstants.MOUNT_ATTR_NOEXEC;
    long MOUNT_ATTR_IDMAP = LinuxConstants.MOUNT_ATTR_IDMAP;
    long MS_PRIVATE = LinuxConstants.MS_PRIVATE;
    long MS_SLAVE = LinuxConstants.MS_SLAVE;
    long MS_SHARED = LinuxConstants.MS_SHARED;
    int LOCK_SH = LinuxConstants.LOCK_SH;
    int LOCK_EX = LinuxConstants.LOCK_EX;
    int LOCK_NB = LinuxConstants.LOCK_NB;
    int ENOENT = LinuxConstants.ENOENT;
    int EINVAL = LinuxConstants.EINVAL;
    int POLLIN = LinuxConstants.POLLIN;
    int POLLHUP = LinuxConstants.POLLHUP;
    int SECCOMP_NOTIF_SIZE = LinuxConstants.SECCOMP_NOTIF_SIZE;
    int SECCOMP_USER_NOTIF_FLAG_CONTINUE = LinuxConstants.SECCOMP_USER_NOTIF_FLAG_CONTINUE;
    int ENOTDIR = LinuxConstants.ENOTDIR;
    int ELOOP = LinuxConstants.ELOOP;
    int EXDEV = LinuxConstants.EXDEV;
    int ENOSYS = LinuxConstants.ENOSYS;
    int EPERM = LinuxConstants.EPERM;
    int EACCES = LinuxConstants.EACCES;
    int EOPNOTSUPP = LinuxConstants.EOPNOTSUPP;

    int EIO = LinuxConstants.EIO;
    long CLONE_NEWNET = LinuxConstants.CLONE_NEWNET;
    long CLONE_NEWUSER = LinuxConstants.CLONE_NEWUSER;

    int memfdCreate(String name, int flags);

    void addSeals(int fd, int seals);

    /** fcntl(F_GET_SEALS). */
    int getSeals(int fd);

    int open(String path, int flags, int mode);

    /** openat2(2): resolves {@code path} below {@code dirfd} under the given RESOLVE_* rules. */
    int openat2(int dirfd, String path, int flags, long resolve);

    void close(int fd);

    /** Returns the number of bytes read, 0 at end of file. */
    int read(int fd, byte[] buf, int off, int len);

    /** Returns the number of bytes written. */
    int write(int fd, byte[] buf, int off, int len);

    /** A connected AF_UNIX SOCK_SEQPACKET pair, both ends close-on-exec. */
    int[] socketpair();

    /** A pipe, both ends close-on-exec: [read, write]. */
    int[] pipe();

    /**
     * posix_spawn(3) of {@code path} in a new session with default signal dispositions
     * and an empty signal mask. {@code fds} maps each child fd number to the parent fd
     * that is placed there; every other fd is the child's to close.
     */
    long spawn(String path, List<String> argv, List<String> env, Map<Integer, Integer> fds);

    /** waitpid(2) for exactly this child; returns the raw wait status, or -1 with {@code noHang} if it still runs. */
    int waitpid(long pid, boolean noHang);

    int pidfdOpen(long pid);

    /** pidfd_send_signal(2); returns false when the process has already exited (ESRCH). */
    boolean pidfdSendSignal(int pidfd, int signal);

    /**
     * kill(2) of a child of this process that has not been reaped yet (its pid cannot have been
     * reused); returns false when it has already exited.
     */
    boolean killChild(long pid, int signal);

    /** poll(2) for input (or hang-up) on one fd; false when {@code timeoutMillis} passed first. */
    boolean pollIn(int fd, int timeoutMillis);

    /** sysconf(_SC_ARG_MAX): how many bytes of arguments and environment execve accepts. */
    long argMax();

    int epollCreate();

    void epollAdd(int epfd, int fd, long token);

    /** Waits for events; fills {@code tokens} and returns how many are ready (0 on timeout or EINTR). */
    int epollWait(int epfd, long[] tokens, int timeoutMillis);

    String strerror(int errno);

    /**
     * open_tree(2): a detached copy of the mount (tree, with {@link #AT_RECURSIVE}) at {@code path}
     * below {@code dirfd} ({@code ""} with {@link #AT_EMPTY_PATH}: {@code dirfd} itself), as an fd that
     * {@code move_mount} attaches elsewhere; closing it unmounts the copy. Errors name {@code operand}.
     */
    int openTree(int dirfd, String path, int flags, String operand);

    /**
     * mount_setattr(2) on the detached or attached mount {@code fd} refers to: sets {@code attrSet}
     * (MOUNT_ATTR_*) and, unless 0, the propagation (MS_PRIVATE, MS_SLAVE, MS_SHARED); with
     * {@link #AT_RECURSIVE} on every mount of the tree. Errors name {@code operand}.
     */
    void mountSetattr(int fd, int flags, long attrSet, long propagation, String operand);

    /** flock(2); false when {@link #LOCK_NB} was given and another holds a conflicting lock. */
    boolean flock(int fd, int operation, String operand);

    // ---- user namespaces: idmapped trees and the overlay of a user-namespaced container's root ----

    /**
     * {@code mount_setattr(fd, "", AT_EMPTY_PATH | flags, MOUNT_ATTR_IDMAP, userns_fd)}: the detached tree
     * {@code fd} (from {@link #openTree} with {@link #OPEN_TREE_CLONE}) shows its files' owners through the mapping
     * of the user namespace {@code usernsFd} (an open {@code /proc/PID/ns/user}); {@code flags} 0 or
     * {@link #AT_RECURSIVE}. Errors: {@code mount_setattr(operand, MOUNT_ATTR_IDMAP): strerror}.
     */
    void mountSetattrIdmap(int fd, int flags, int usernsFd, String operand);

    /** {@code fsopen(fsType, FSOPEN_CLOEXEC)}: a filesystem context. */
    int fsopen(String fsType, String operand);

    /** {@code fsconfig(fsfd, FSCONFIG_SET_STRING, key, value)}. */
    void fsconfigString(int fsfd, String key, String value, String operand);

    /**
     * {@code fsconfig(fsfd, FSCONFIG_CMD_CREATE)}; a refusal's exception carries what the filesystem logged
     * on the context (its reason) in its operand.
     */
    void fsconfigCreate(int fsfd, String operand);

    /** {@code fsmount(fsfd, FSMOUNT_CLOEXEC, 0)}: the created filesystem as a detached tree. */
    int fsmount(int fsfd, String operand);

    /** {@code sendmsg} of one byte with {@code fd} as {@code SCM_RIGHTS} ({@code MSG_NOSIGNAL}). */
    void sendFd(int socket, int fd, String operand);

    /** {@code sendmsg} of one packet, {@code data}, with {@code fd} as {@code SCM_RIGHTS} ({@code MSG_NOSIGNAL}). */
    void sendWithFd(int socket, byte[] data, int fd, String operand);

    // ---- reading through fds another process opened (a rootless copy's helper in the user namespace) ----

    /** What {@code statx(fd, "", AT_EMPTY_PATH)} says of an open file (the fields a tar header takes). */
    record FileStat(int mode, int uid, int gid, long size, long mtimeSeconds, long ino, long dev, int nlink,
            long rdev) {
        public int type() {
            return mode & S_IFMT;
        }
    }

    /** statx(2) of the file {@code fd} refers to itself (an {@code O_PATH} fd of a symlink: the link). */
    FileStat fstat(int fd, String operand);

    /** A directory entry: its name and type ({@code S_IF*} bits, as getdents64's {@code d_type}; 0: unknown). */
    record DirEntry(String name, int type) {}

    /** The entries of the directory open at {@code fd} (getdents64 from its current offset), without . and ... */
    List<DirEntry> listDirectory(int fd, String operand);

    /** readlinkat(fd, ""): the target of the symlink an {@code O_PATH | O_NOFOLLOW} fd refers to. */
    String readLink(int fd, String operand);

    // ---- extended attributes (a new volume's copy of an image directory keeps them) ----

    /** llistxattr(2): the names of the extended attributes of {@code path} itself (a symlink's own). */
    List<String> listXattrs(String path);

    /** lgetxattr(2): the value of {@code name} on {@code path} itself. */
    byte[] getXattr(String path, String name);

    /** lsetxattr(2): sets {@code name} on {@code path} itself. */
    void setXattr(String path, String name, byte[] value);

    // ---- terminals: a container's pty master, and the JVM's own terminal ----

    /**
     * recvmsg(2) of one packet, with room for one fd passed along as SCM_RIGHTS (received
     * close-on-exec). Returns the packet's length, 0 at end of file; {@code fd[0]} is the passed
     * fd, or -1 when the packet carried none.
     */
    int receive(int socket, byte[] buf, int[] fd);

    /** fcntl(F_DUPFD_CLOEXEC): another fd for the same open file. */
    int dup(int fd);

    boolean isatty(int fd);

    /** ioctl(TIOCGWINSZ): {columns, rows}. */
    int[] windowSize(int fd);

    /** ioctl(TIOCSWINSZ): the foreground process group of the terminal gets SIGWINCH when the size changes. */
    void setWindowSize(int fd, int columns, int rows);

    /** tcgetattr(3): the terminal's settings, an opaque {@code struct termios}. */
    byte[] tcgetattr(int fd);

    /** tcsetattr(3) with TCSANOW. */
    void tcsetattr(int fd, byte[] termios);

    /** cfmakeraw(3) of a copy: no echo, no line editing, no signal characters, no output processing. */
    byte[] makeRaw(byte[] termios);

    // ---- seccomp user notification: a container's listener fd ----

    /** poll(2) without waiting: the fd's revents ({@link #POLLIN}, {@link #POLLHUP}, ...), 0 when none. */
    int pollEvents(int fd);

    /**
     * ioctl(SECCOMP_IOCTL_NOTIF_RECV) into {@code notif} ({@link #SECCOMP_NOTIF_SIZE} bytes, {@code struct
     * seccomp_notif}); false when the notification went away meanwhile (its caller was killed: ENOENT).
     */
    boolean seccompNotifReceive(int fd, byte[] notif);

    /** ioctl(SECCOMP_IOCTL_NOTIF_SEND); false when the caller went away (ENOENT). */
    boolean seccompNotifRespond(int fd, long id, long value, int error, int flags);

    // ---- namespaces: the health probe thread enters a container's network namespace ----

    /**
     * setns(2) of the calling thread into the namespace {@code fd} refers to ({@code nstype}, e.g.
     * {@link #CLONE_NEWNET}, or 0 for any). Only this thread moves; errors name {@code operand}.
     */
    void setns(int fd, long nstype, String operand);

    // ---- network namespace pins (dev.berth.core.internal.net) ----

    int MNT_DETACH = LinuxConstants.MNT_DETACH;
    int UMOUNT_NOFOLLOW = LinuxConstants.UMOUNT_NOFOLLOW;

    /** mount(2) with {@code MS_BIND} of {@code source} onto the existing {@code target}; errors name the target. */
    void bindMount(String source, String target);

    /** umount2(2); errors name the target. */
    void umount(String target, int flags);
}
