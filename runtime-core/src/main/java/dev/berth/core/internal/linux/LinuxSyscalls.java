package dev.berth.core.internal.linux;

import com.sun.jna.LastErrorException;
import com.sun.jna.Library;
import com.sun.jna.Memory;
import com.sun.jna.Native;
import com.sun.jna.Pointer;
import com.sun.jna.ptr.IntByReference;
import dev.berth.core.internal.sys.SyscallException;
import dev.berth.core.internal.sys.Syscalls;
import dev.berth.linux.internal.LinuxConstants;
import java.util.List;
import java.util.Map;

/** {@link Syscalls} over glibc through JNA. The only class of runtime-core that touches JNA. */
public final class LinuxSyscalls implements Syscalls {

    private static final long SYS_PIDFD_SEND_SIGNAL = LinuxConstants.SYS_PIDFD_SEND_SIGNAL;
    private static final long SYS_PIDFD_OPEN = LinuxConstants.SYS_PIDFD_OPEN;
    private static final long SYS_OPENAT2 = LinuxConstants.SYS_OPENAT2;
    private static final long SYS_OPEN_TREE = LinuxConstants.SYS_OPEN_TREE;
    private static final long SYS_MOUNT_SETATTR = LinuxConstants.SYS_MOUNT_SETATTR;
    private static final int MOUNT_ATTR_SIZE_VER0 = LinuxConstants.MOUNT_ATTR_SIZE_VER0;
    private static final int EWOULDBLOCK = LinuxConstants.EWOULDBLOCK;
    private static final int ERANGE = LinuxConstants.ERANGE;
    private static final int F_ADD_SEALS = LinuxConstants.F_ADD_SEALS;
    private static final int F_GET_SEALS = LinuxConstants.F_GET_SEALS;
    private static final int SC_ARG_MAX = LinuxConstants.SC_ARG_MAX;
    private static final short POLLIN = (short) LinuxConstants.POLLIN;
    private static final int AF_UNIX = LinuxConstants.AF_UNIX;
    private static final int SOCK_SEQPACKET = LinuxConstants.SOCK_SEQPACKET;
    private static final int SOCK_CLOEXEC = LinuxConstants.SOCK_CLOEXEC;
    private static final int EPOLL_CTL_ADD = LinuxConstants.EPOLL_CTL_ADD;
    private static final int EPOLLIN = LinuxConstants.EPOLLIN;
    private static final int EINTR = LinuxConstants.EINTR;
    private static final int ESRCH = LinuxConstants.ESRCH;
    private static final int WNOHANG = LinuxConstants.WNOHANG;
    private static final short POSIX_SPAWN_SETSIGDEF = (short) LinuxConstants.POSIX_SPAWN_SETSIGDEF;
    private static final short POSIX_SPAWN_SETSIGMASK = (short) LinuxConstants.POSIX_SPAWN_SETSIGMASK;
    private static final short POSIX_SPAWN_SETSID = (short) LinuxConstants.POSIX_SPAWN_SETSID;
    /** epoll_event is packed on x86_64 (12 bytes), naturally aligned on aarch64 (16 bytes). */
    private static final int EPOLL_EVENT_SIZE = LinuxConstants.EPOLL_EVENT_SIZE;
    private static final int EPOLL_DATA_OFFSET = LinuxConstants.EPOLL_DATA_OFFSET;
    private static final int F_DUPFD_CLOEXEC = LinuxConstants.F_DUPFD_CLOEXEC;
    private static final int TIOCGWINSZ = LinuxConstants.TIOCGWINSZ;
    private static final int TIOCSWINSZ = LinuxConstants.TIOCSWINSZ;
    private static final int TCSANOW = LinuxConstants.TCSANOW;
    private static final int SOL_SOCKET = LinuxConstants.SOL_SOCKET;
    private static final int SCM_RIGHTS = LinuxConstants.SCM_RIGHTS;
    private static final int MSG_CMSG_CLOEXEC = LinuxConstants.MSG_CMSG_CLOEXEC;
    private static final long SECCOMP_IOCTL_NOTIF_RECV = LinuxConstants.SECCOMP_IOCTL_NOTIF_RECV;
    private static final long SECCOMP_IOCTL_NOTIF_SEND = LinuxConstants.SECCOMP_IOCTL_NOTIF_SEND;
    private static final int SECCOMP_NOTIF_RESP_SIZE = LinuxConstants.SECCOMP_NOTIF_RESP_SIZE;

    interface LibC extends Library {
        int memfd_create(String name, int flags) throws LastErrorException;

        int fcntl(int fd, int cmd, int arg) throws LastErrorException;

        int open(String path, int flags, int mode) throws LastErrorException;

        int close(int fd) throws LastErrorException;

        long read(int fd, byte[] buf, long len) throws LastErrorException;

        long write(int fd, byte[] buf, long len) throws LastErrorException;

        int socketpair(int domain, int type, int protocol, int[] sv) throws LastErrorException;

        int pipe2(int[] fds, int flags) throws LastErrorException;

        int posix_spawn(IntByReference pid, String path, Pointer fileActions, Pointer attr, String[] argv, String[] envp);

        int posix_spawn_file_actions_init(Pointer fa);

        int posix_spawn_file_actions_adddup2(Pointer fa, int fd, int newfd);

        int posix_spawn_file_actions_destroy(Pointer fa);

        int posix_spawnattr_init(Pointer attr);

        int posix_spawnattr_setflags(Pointer attr, short flags);

        int posix_spawnattr_setsigmask(Pointer attr, Pointer mask);

        int posix_spawnattr_setsigdefault(Pointer attr, Pointer mask);

        int posix_spawnattr_destroy(Pointer attr);

        int sigemptyset(Pointer set);

        int sigfillset(Pointer set);

        int waitpid(int pid, int[] status, int options) throws LastErrorException;

        long syscall(long number, int a, int b) throws LastErrorException;

        long syscall(long number, int a, int b, Pointer c, int d) throws LastErrorException;

        long syscall(long number, int dirfd, String path, Pointer how, long size) throws LastErrorException;

        long syscall(long number, int dirfd, String path, int flags) throws LastErrorException;

        long syscall(long number, int dirfd, String path, int flags, Pointer attr, long size) throws LastErrorException;

        long syscall(long number, String fsType, int flags) throws LastErrorException;

        long syscall(long number, int fd, int cmd, String key, String value, int aux) throws LastErrorException;

        long syscall(long number, int a, int b, int c) throws LastErrorException;

        long sendmsg(int socket, Pointer msg, int flags) throws LastErrorException;

        int flock(int fd, int operation) throws LastErrorException;

        int mount(String source, String target, String fstype, long flags, Pointer data) throws LastErrorException;

        int umount2(String target, int flags) throws LastErrorException;

        long llistxattr(String path, byte[] list, long size) throws LastErrorException;

        long lgetxattr(String path, String name, byte[] value, long size) throws LastErrorException;

        int lsetxattr(String path, String name, byte[] value, long size, int flags) throws LastErrorException;

        int epoll_create1(int flags) throws LastErrorException;

        int epoll_ctl(int epfd, int op, int fd, Pointer event) throws LastErrorException;

        int epoll_wait(int epfd, Pointer events, int maxevents, int timeout) throws LastErrorException;

        int kill(int pid, int sig) throws LastErrorException;

        int setns(int fd, int nstype) throws LastErrorException;

        int poll(Pointer fds, int nfds, int timeout) throws LastErrorException;

        long sysconf(int name);

        String strerror(int errnum);

        long recvmsg(int socket, Pointer msg, int flags) throws LastErrorException;

        int statx(int dirfd, String path, int flags, int mask, Pointer buf) throws LastErrorException;

        long getdents64(int fd, Pointer buf, long size) throws LastErrorException;

        long readlinkat(int dirfd, String path, byte[] buf, long size) throws LastErrorException;

        int ioctl(int fd, long request, Pointer arg) throws LastErrorException;

        int isatty(int fd);

        int tcgetattr(int fd, Pointer termios) throws LastErrorException;

        int tcsetattr(int fd, int action, Pointer termios) throws LastErrorException;

        void cfmakeraw(Pointer termios);
    }

    private static final LibC C = Native.load("c", LibC.class);

    private static SyscallException error(String syscall, Object operand, LastErrorException e) {
        return new SyscallException(syscall, String.valueOf(operand), e.getErrorCode(), C.strerror(e.getErrorCode()));
    }

    private static SyscallException error(String syscall, Object operand, int errno) {
        return new SyscallException(syscall, String.valueOf(operand), errno, C.strerror(errno));
    }

    @Override
    public int memfdCreate(String name, int flags) {
        try {
            return C.memfd_create(name, flags);
        } catch (LastErrorException e) {
            throw error("memfd_create", name, e);
        }
    }

    @Override
    public void addSeals(int fd, int seals) {
        try {
            C.fcntl(fd, F_ADD_SEALS, seals);
        } catch (LastErrorException e) {
            throw error("fcntl(F_ADD_SEALS)", fd, e);
        }
    }

    @Override
    public int getSeals(int fd) {
        try {
            return C.fcntl(fd, F_GET_SEALS, 0);
        } catch (LastErrorException e) {
            throw error("fcntl(F_GET_SEALS)", fd, e);
        }
    }

    @Override
    public boolean killChild(long pid, int signal) {
        try {
            C.kill((int) pid, signal);
            return true;
        } catch (LastErrorException e) {
            if (e.getErrorCode() == ESRCH) {
                return false;
            }
            throw error("kill", pid + ", signal " + signal, e);
        }
    }

    @Override
    public boolean pollIn(int fd, int timeoutMillis) {
        try (Memory pfd = new Memory(8)) {
            long deadline = System.nanoTime() + timeoutMillis * 1_000_000L;
            while (true) {
                pfd.setInt(0, fd);
                pfd.setShort(4, POLLIN);
                pfd.setShort(6, (short) 0);
                int left = (int) Math.max(0, (deadline - System.nanoTime()) / 1_000_000L);
                try {
                    return C.poll(pfd, 1, left) > 0; // POLLIN, POLLHUP or POLLERR: a read will not block
                } catch (LastErrorException e) {
                    if (e.getErrorCode() != EINTR) {
                        throw error("poll", fd, e);
                    }
                }
            }
        }
    }

    @Override
    public long argMax() {
        return C.sysconf(SC_ARG_MAX);
    }

    @Override
    public int open(String path, int flags, int mode) {
        try {
            return C.open(path, flags, mode);
        } catch (LastErrorException e) {
            throw error("open", path, e);
        }
    }

    @Override
    public int openat2(int dirfd, String path, int flags, long resolve) {
        // struct open_how { u64 flags; u64 mode; u64 resolve; }
        try (Memory how = new Memory(24)) {
            how.setLong(0, flags & 0xffffffffL);
            how.setLong(8, 0);
            how.setLong(16, resolve);
            return (int) C.syscall(SYS_OPENAT2, dirfd, path, how, 24);
        } catch (LastErrorException e) {
            throw error("openat2", path, e);
        }
    }

    @Override
    public void close(int fd) {
        try {
            C.close(fd);
        } catch (LastErrorException e) {
            throw error("close", fd, e);
        }
    }

    @Override
    public int read(int fd, byte[] buf, int off, int len) {
        byte[] target = off == 0 ? buf : new byte[len];
        while (true) {
            try {
                int n = (int) C.read(fd, target, len);
                if (off != 0 && n > 0) {
                    System.arraycopy(target, 0, buf, off, n);
                }
                return n;
            } catch (LastErrorException e) {
                if (e.getErrorCode() != EINTR) {
                    throw error("read", fd, e);
                }
            }
        }
    }

    @Override
    public int write(int fd, byte[] buf, int off, int len) {
        byte[] source = off == 0 ? buf : java.util.Arrays.copyOfRange(buf, off, off + len);
        while (true) {
            try {
                return (int) C.write(fd, source, len);
            } catch (LastErrorException e) {
                if (e.getErrorCode() != EINTR) {
                    throw error("write", fd, e);
                }
            }
        }
    }

    @Override
    public int[] socketpair() {
        int[] sv = new int[2];
        try {
            C.socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv);
            return sv;
        } catch (LastErrorException e) {
            throw error("socketpair", "AF_UNIX, SOCK_SEQPACKET", e);
        }
    }

    @Override
    public int[] pipe() {
        int[] fds = new int[2];
        try {
            C.pipe2(fds, O_CLOEXEC);
            return fds;
        } catch (LastErrorException e) {
            throw error("pipe2", "O_CLOEXEC", e);
        }
    }

    @Override
    public long spawn(String path, List<String> argv, List<String> env, Map<Integer, Integer> fds) {
        // posix_spawn_file_actions_t is 80 bytes and posix_spawnattr_t 336 on glibc; leave headroom.
        try (Memory fa = new Memory(512); Memory attr = new Memory(1024);
                Memory none = new Memory(128); Memory all = new Memory(128)) {
            C.posix_spawn_file_actions_init(fa);
            C.posix_spawnattr_init(attr);
            try {
                // Two passes so that a source fd never gets clobbered by an earlier dup2:
                // first every source to a scratch number above all of them, then into place.
                int scratch = fds.keySet().stream().mapToInt(Integer::intValue).max().orElse(0) + 1;
                scratch = Math.max(scratch, fds.values().stream().mapToInt(Integer::intValue).max().orElse(0) + 1);
                int i = 0;
                for (Map.Entry<Integer, Integer> e : fds.entrySet()) {
                    check(C.posix_spawn_file_actions_adddup2(fa, e.getValue(), scratch + i++), "posix_spawn_file_actions_adddup2");
                }
                i = 0;
                for (Map.Entry<Integer, Integer> e : fds.entrySet()) {
                    check(C.posix_spawn_file_actions_adddup2(fa, scratch + i++, e.getKey()), "posix_spawn_file_actions_adddup2");
                }
                C.sigemptyset(none);
                C.sigfillset(all);
                check(C.posix_spawnattr_setsigmask(attr, none), "posix_spawnattr_setsigmask");
                check(C.posix_spawnattr_setsigdefault(attr, all), "posix_spawnattr_setsigdefault");
                check(C.posix_spawnattr_setflags(attr,
                        (short) (POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSID)), "posix_spawnattr_setflags");
                IntByReference pid = new IntByReference();
                int rc = C.posix_spawn(pid, path, fa, attr, argv.toArray(new String[0]), env.toArray(new String[0]));
                if (rc != 0) {
                    throw error("posix_spawn", path, rc);
                }
                return pid.getValue();
            } finally {
                C.posix_spawn_file_actions_destroy(fa);
                C.posix_spawnattr_destroy(attr);
            }
        }
    }

    private static void check(int rc, String what) {
        if (rc != 0) {
            throw error(what, "", rc);
        }
    }

    @Override
    public int waitpid(long pid, boolean noHang) {
        int[] status = new int[1];
        while (true) {
            try {
                int r = C.waitpid((int) pid, status, noHang ? WNOHANG : 0);
                return r == 0 ? -1 : status[0];
            } catch (LastErrorException e) {
                if (e.getErrorCode() != EINTR) {
                    throw error("waitpid", pid, e);
                }
            }
        }
    }

    @Override
    public int pidfdOpen(long pid) {
        try {
            return (int) C.syscall(SYS_PIDFD_OPEN, (int) pid, 0);
        } catch (LastErrorException e) {
            throw error("pidfd_open", pid, e);
        }
    }

    @Override
    public boolean pidfdSendSignal(int pidfd, int signal) {
        try {
            C.syscall(SYS_PIDFD_SEND_SIGNAL, pidfd, signal, Pointer.NULL, 0);
            return true;
        } catch (LastErrorException e) {
            if (e.getErrorCode() == ESRCH) {
                return false;
            }
            throw error("pidfd_send_signal", "signal " + signal, e);
        }
    }

    @Override
    public int epollCreate() {
        try {
            return C.epoll_create1(O_CLOEXEC);
        } catch (LastErrorException e) {
            throw error("epoll_create1", "EPOLL_CLOEXEC", e);
        }
    }

    @Override
    public void epollAdd(int epfd, int fd, long token) {
        try (Memory ev = new Memory(EPOLL_EVENT_SIZE)) {
            ev.clear();
            ev.setInt(0, EPOLLIN);
            ev.setLong(EPOLL_DATA_OFFSET, token);
            C.epoll_ctl(epfd, EPOLL_CTL_ADD, fd, ev);
        } catch (LastErrorException e) {
            throw error("epoll_ctl(EPOLL_CTL_ADD)", fd, e);
        }
    }

    @Override
    public int epollWait(int epfd, long[] tokens, int timeoutMillis) {
        try (Memory evs = new Memory((long) EPOLL_EVENT_SIZE * tokens.length)) {
            int n = C.epoll_wait(epfd, evs, tokens.length, timeoutMillis);
            for (int i = 0; i < n; i++) {
                tokens[i] = evs.getLong((long) i * EPOLL_EVENT_SIZE + EPOLL_DATA_OFFSET);
            }
            return n;
        } catch (LastErrorException e) {
            if (e.getErrorCode() == EINTR) {
                return 0;
            }
            throw error("epoll_wait", epfd, e);
        }
    }

    @Override
    public String strerror(int errno) {
        return C.strerror(errno);
    }

    @Override
    public int openTree(int dirfd, String path, int flags, String operand) {
        try {
            return (int) C.syscall(SYS_OPEN_TREE, dirfd, path, flags);
        } catch (LastErrorException e) {
            throw error("open_tree", operand, e);
        }
    }

    @Override
    public void mountSetattr(int fd, int flags, long attrSet, long propagation, String operand) {
        // struct mount_attr { u64 attr_set; u64 attr_clr; u64 propagation; u64 userns_fd; }
        try (Memory attr = new Memory(MOUNT_ATTR_SIZE_VER0)) {
            attr.clear();
            attr.setLong(0, attrSet);
            attr.setLong(16, propagation);
            C.syscall(SYS_MOUNT_SETATTR, fd, "", flags | AT_EMPTY_PATH, attr, MOUNT_ATTR_SIZE_VER0);
        } catch (LastErrorException e) {
            throw error("mount_setattr", operand, e);
        }
    }

    @Override
    public void mountSetattrIdmap(int fd, int flags, int usernsFd, String operand) {
        try (Memory attr = new Memory(MOUNT_ATTR_SIZE_VER0)) {
            attr.clear();
            attr.setLong(0, LinuxConstants.MOUNT_ATTR_IDMAP);
            attr.setLong(24, usernsFd);
            C.syscall(SYS_MOUNT_SETATTR, fd, "", flags | AT_EMPTY_PATH, attr, MOUNT_ATTR_SIZE_VER0);
        } catch (LastErrorException e) {
            throw error("mount_setattr", operand + ", MOUNT_ATTR_IDMAP", e);
        }
    }

    @Override
    public int fsopen(String fsType, String operand) {
        try {
            return (int) C.syscall(LinuxConstants.SYS_FSOPEN, fsType, LinuxConstants.FSOPEN_CLOEXEC);
        } catch (LastErrorException e) {
            throw error("fsopen", operand, e);
        }
    }

    @Override
    public void fsconfigString(int fsfd, String key, String value, String operand) {
        try {
            C.syscall(LinuxConstants.SYS_FSCONFIG, fsfd, LinuxConstants.FSCONFIG_SET_STRING, key, value, 0);
        } catch (LastErrorException e) {
            throw error("fsconfig", operand + logOf(fsfd), e);
        }
    }

    @Override
    public void fsconfigCreate(int fsfd, String operand) {
        try {
            C.syscall(LinuxConstants.SYS_FSCONFIG, fsfd, LinuxConstants.FSCONFIG_CMD_CREATE, null, null, 0);
        } catch (LastErrorException e) {
            throw error("fsconfig", operand + logOf(fsfd), e);
        }
    }

    /** What the filesystem logged on the context (lines "e overlayfs: ..."), as " [...]"; empty when nothing. */
    private static String logOf(int fsfd) {
        StringBuilder log = new StringBuilder();
        byte[] buf = new byte[1024];
        for (int i = 0; i < 16; i++) {
            long n;
            try {
                n = C.read(fsfd, buf, buf.length);
            } catch (LastErrorException e) {
                break; // ENODATA: nothing more
            }
            if (n <= 0) {
                break;
            }
            String line = new String(buf, 0, (int) n, java.nio.charset.StandardCharsets.UTF_8).strip();
            log.append(log.length() == 0 ? "" : "; ").append(line.length() > 2 && line.charAt(1) == ' '
                    ? line.substring(2) : line);
        }
        return log.length() == 0 ? "" : " [" + log + "]";
    }

    @Override
    public int fsmount(int fsfd, String operand) {
        try {
            return (int) C.syscall(LinuxConstants.SYS_FSMOUNT, fsfd, LinuxConstants.FSMOUNT_CLOEXEC, 0);
        } catch (LastErrorException e) {
            throw error("fsmount", operand, e);
        }
    }

    @Override
    public void sendFd(int socket, int fd, String operand) {
        sendWithFd(socket, new byte[] {'M'}, fd, operand);
    }

    @Override
    public void sendWithFd(int socket, byte[] bytes, int fd, String operand) {
        try (Memory data = new Memory(Math.max(1, bytes.length)); Memory iov = new Memory(LinuxConstants.IOVEC_SIZE);
                Memory control = new Memory(LinuxConstants.CMSG_SPACE_FD); Memory msg = new Memory(LinuxConstants.MSGHDR_SIZE)) {
            data.write(0, bytes, 0, bytes.length);
            iov.clear();
            control.clear();
            msg.clear();
            iov.setPointer(0, data);
            iov.setLong(LinuxConstants.IOVEC_LEN_OFFSET, bytes.length);
            control.setLong(0, LinuxConstants.CMSG_LEN_FD);
            control.setInt(LinuxConstants.CMSG_LEVEL_OFFSET, SOL_SOCKET);
            control.setInt(LinuxConstants.CMSG_TYPE_OFFSET, SCM_RIGHTS);
            control.setInt(LinuxConstants.CMSG_DATA_OFFSET, fd);
            msg.setPointer(LinuxConstants.MSGHDR_IOV_OFFSET, iov);
            msg.setLong(LinuxConstants.MSGHDR_IOVLEN_OFFSET, 1);
            msg.setPointer(LinuxConstants.MSGHDR_CONTROL_OFFSET, control);
            msg.setLong(LinuxConstants.MSGHDR_CONTROLLEN_OFFSET, LinuxConstants.CMSG_SPACE_FD);
            while (true) {
                try {
                    C.sendmsg(socket, msg, LinuxConstants.MSG_NOSIGNAL);
                    return;
                } catch (LastErrorException e) {
                    if (e.getErrorCode() != EINTR) {
                        throw error("sendmsg", operand, e);
                    }
                }
            }
        }
    }

    @Override
    public boolean flock(int fd, int operation, String operand) {
        while (true) {
            try {
                C.flock(fd, operation);
                return true;
            } catch (LastErrorException e) {
                if (e.getErrorCode() == EWOULDBLOCK && (operation & LOCK_NB) != 0) {
                    return false;
                }
                if (e.getErrorCode() != EINTR) {
                    throw error("flock", operand, e);
                }
            }
        }
    }

    @Override
    public List<String> listXattrs(String path) {
        // sized first, then read; ERANGE: the list grew in between, so again
        while (true) {
            try {
                long size = C.llistxattr(path, null, 0);
                byte[] buf = new byte[(int) size];
                long n = size == 0 ? 0 : C.llistxattr(path, buf, size);
                List<String> names = new java.util.ArrayList<>();
                int start = 0;
                for (int i = 0; i < n; i++) {
                    if (buf[i] == 0) {
                        names.add(new String(buf, start, i - start, java.nio.charset.StandardCharsets.UTF_8));
                        start = i + 1;
                    }
                }
                return names;
            } catch (LastErrorException e) {
                if (e.getErrorCode() != ERANGE) {
                    throw error("llistxattr", path, e);
                }
            }
        }
    }

    @Override
    public byte[] getXattr(String path, String name) {
        while (true) {
            try {
                long size = C.lgetxattr(path, name, null, 0);
                byte[] value = new byte[(int) size];
                long n = size == 0 ? 0 : C.lgetxattr(path, name, value, size);
                return n == size ? value : java.util.Arrays.copyOf(value, (int) n);
            } catch (LastErrorException e) {
                if (e.getErrorCode() != ERANGE) {
                    throw error("lgetxattr", path + " " + name, e);
                }
            }
        }
    }

    @Override
    public void setXattr(String path, String name, byte[] value) {
        try {
            C.lsetxattr(path, name, value, value.length, 0);
        } catch (LastErrorException e) {
            throw error("lsetxattr", path + " " + name, e);
        }
    }

    @Override
    public int receive(int socket, byte[] buf, int[] fd) {
        fd[0] = -1;
        try (Memory data = new Memory(Math.max(1, buf.length)); Memory iov = new Memory(LinuxConstants.IOVEC_SIZE);
                Memory control = new Memory(LinuxConstants.CMSG_SPACE_FD); Memory msg = new Memory(LinuxConstants.MSGHDR_SIZE)) {
            while (true) {
                iov.clear();
                control.clear();
                msg.clear();
                iov.setPointer(0, data);
                iov.setLong(LinuxConstants.IOVEC_LEN_OFFSET, buf.length);
                msg.setPointer(LinuxConstants.MSGHDR_IOV_OFFSET, iov);
                msg.setLong(LinuxConstants.MSGHDR_IOVLEN_OFFSET, 1);
                msg.setPointer(LinuxConstants.MSGHDR_CONTROL_OFFSET, control);
                msg.setLong(LinuxConstants.MSGHDR_CONTROLLEN_OFFSET, LinuxConstants.CMSG_SPACE_FD);
                long n;
                try {
                    n = C.recvmsg(socket, msg, MSG_CMSG_CLOEXEC);
                } catch (LastErrorException e) {
                    if (e.getErrorCode() == EINTR) {
                        continue;
                    }
                    throw error("recvmsg", socket, e);
                }
                // One control message fits (the space for more is not there: the kernel closes extras, MSG_CTRUNC).
                if (msg.getLong(LinuxConstants.MSGHDR_CONTROLLEN_OFFSET) >= LinuxConstants.CMSG_LEN_FD
                        && control.getLong(0) == LinuxConstants.CMSG_LEN_FD
                        && control.getInt(LinuxConstants.CMSG_LEVEL_OFFSET) == SOL_SOCKET
                        && control.getInt(LinuxConstants.CMSG_TYPE_OFFSET) == SCM_RIGHTS) {
                    fd[0] = control.getInt(LinuxConstants.CMSG_DATA_OFFSET);
                }
                data.read(0, buf, 0, (int) Math.min(n, buf.length));
                return (int) n;
            }
        }
    }

    @Override
    public int dup(int fd) {
        try {
            return C.fcntl(fd, F_DUPFD_CLOEXEC, 0);
        } catch (LastErrorException e) {
            throw error("fcntl(F_DUPFD_CLOEXEC)", fd, e);
        }
    }

    @Override
    public boolean isatty(int fd) {
        return C.isatty(fd) == 1;
    }

    @Override
    public int[] windowSize(int fd) {
        // struct winsize { unsigned short ws_row, ws_col, ws_xpixel, ws_ypixel; }
        try (Memory ws = new Memory(LinuxConstants.WINSIZE_SIZE)) {
            ws.clear();
            C.ioctl(fd, TIOCGWINSZ, ws);
            return new int[] {Short.toUnsignedInt(ws.getShort(2)), Short.toUnsignedInt(ws.getShort(0))};
        } catch (LastErrorException e) {
            throw error("ioctl(TIOCGWINSZ)", fd, e);
        }
    }

    @Override
    public void setWindowSize(int fd, int columns, int rows) {
        try (Memory ws = new Memory(LinuxConstants.WINSIZE_SIZE)) {
            ws.clear();
            ws.setShort(0, (short) rows);
            ws.setShort(2, (short) columns);
            C.ioctl(fd, TIOCSWINSZ, ws);
        } catch (LastErrorException e) {
            throw error("ioctl(TIOCSWINSZ)", fd, e);
        }
    }

    @Override
    public byte[] tcgetattr(int fd) {
        try (Memory t = new Memory(LinuxConstants.TERMIOS_SIZE)) {
            C.tcgetattr(fd, t);
            return t.getByteArray(0, LinuxConstants.TERMIOS_SIZE);
        } catch (LastErrorException e) {
            throw error("tcgetattr", fd, e);
        }
    }

    @Override
    public void tcsetattr(int fd, byte[] termios) {
        try (Memory t = termios(termios)) {
            C.tcsetattr(fd, TCSANOW, t);
        } catch (LastErrorException e) {
            throw error("tcsetattr", fd, e);
        }
    }

    @Override
    public byte[] makeRaw(byte[] termios) {
        try (Memory t = termios(termios)) {
            C.cfmakeraw(t);
            return t.getByteArray(0, LinuxConstants.TERMIOS_SIZE);
        }
    }

    private static Memory termios(byte[] termios) {
        if (termios.length != LinuxConstants.TERMIOS_SIZE) {
            throw new IllegalArgumentException("struct termios: " + termios.length + " bytes, expected "
                    + LinuxConstants.TERMIOS_SIZE);
        }
        Memory t = new Memory(termios.length);
        t.write(0, termios, 0, termios.length);
        return t;
    }

    @Override
    public int pollEvents(int fd) {
        try (Memory pfd = new Memory(8)) {
            pfd.setInt(0, fd);
            pfd.setShort(4, POLLIN);
            pfd.setShort(6, (short) 0);
            while (true) {
                try {
                    return C.poll(pfd, 1, 0) > 0 ? pfd.getShort(6) & 0xffff : 0;
                } catch (LastErrorException e) {
                    if (e.getErrorCode() != EINTR) {
                        throw error("poll", fd, e);
                    }
                }
            }
        }
    }

    @Override
    public boolean seccompNotifReceive(int fd, byte[] notif) {
        try (Memory m = new Memory(notif.length)) {
            m.clear(); // the kernel refuses a struct that is not zeroed
            C.ioctl(fd, SECCOMP_IOCTL_NOTIF_RECV, m);
            m.read(0, notif, 0, notif.length);
            return true;
        } catch (LastErrorException e) {
            if (e.getErrorCode() == ENOENT) {
                return false;
            }
            throw error("ioctl(SECCOMP_IOCTL_NOTIF_RECV)", fd, e);
        }
    }

    @Override
    public boolean seccompNotifRespond(int fd, long id, long value, int error, int flags) {
        try (Memory m = new Memory(SECCOMP_NOTIF_RESP_SIZE)) {
            m.setLong(0, id);
            m.setLong(8, value);
            m.setInt(16, error);
            m.setInt(20, flags);
            C.ioctl(fd, SECCOMP_IOCTL_NOTIF_SEND, m);
            return true;
        } catch (LastErrorException e) {
            if (e.getErrorCode() == ENOENT) {
                return false;
            }
            throw error("ioctl(SECCOMP_IOCTL_NOTIF_SEND)", fd, e);
        }
    }

    @Override
    public void setns(int fd, long nstype, String operand) {
        try {
            C.setns(fd, (int) nstype);
        } catch (LastErrorException e) {
            throw error("setns", operand, e);
        }
    }

    @Override
    public void bindMount(String source, String target) {
        try {
            C.mount(source, target, null, LinuxConstants.MS_BIND, null);
        } catch (LastErrorException e) {
            throw error("mount", source + " on " + target, e);
        }
    }

    @Override
    public void umount(String target, int flags) {
        try {
            C.umount2(target, flags);
        } catch (LastErrorException e) {
            throw error("umount2", target, e);
        }
    }

    @Override
    public FileStat fstat(int fd, String operand) {
        try (Memory b = new Memory(256)) {
            b.clear();
            C.statx(fd, "", LinuxConstants.AT_EMPTY_PATH | LinuxConstants.AT_SYMLINK_NOFOLLOW,
                    LinuxConstants.STATX_BASIC_STATS, b);
            long rdev = makedev(b.getInt(LinuxConstants.STATX_RDEV_MAJOR_OFFSET),
                    b.getInt(LinuxConstants.STATX_RDEV_MINOR_OFFSET));
            long dev = makedev(b.getInt(LinuxConstants.STATX_DEV_MAJOR_OFFSET),
                    b.getInt(LinuxConstants.STATX_DEV_MINOR_OFFSET));
            return new FileStat(b.getShort(LinuxConstants.STATX_MODE_OFFSET) & 0xffff,
                    b.getInt(LinuxConstants.STATX_UID_OFFSET), b.getInt(LinuxConstants.STATX_GID_OFFSET),
                    b.getLong(LinuxConstants.STATX_SIZE_OFFSET), b.getLong(LinuxConstants.STATX_MTIME_OFFSET),
                    b.getLong(LinuxConstants.STATX_INO_OFFSET), dev, b.getInt(LinuxConstants.STATX_NLINK_OFFSET), rdev);
        } catch (LastErrorException e) {
            throw error("statx", operand, e);
        }
    }

    /** glibc's gnu_dev_makedev: the dev_t of a major and minor number. */
    private static long makedev(int major, int minor) {
        long ma = major & 0xffffffffL;
        long mi = minor & 0xffffffffL;
        return ((ma & 0x00000fffL) << 8) | ((ma & 0xfffff000L) << 32) | (mi & 0x000000ffL) | ((mi & 0xffffff00L) << 12);
    }

    @Override
    public List<DirEntry> listDirectory(int fd, String operand) {
        // struct linux_dirent64 { u64 d_ino; s64 d_off; u16 d_reclen; u8 d_type; char d_name[]; }
        List<DirEntry> names = new java.util.ArrayList<>();
        try (Memory b = new Memory(32 * 1024)) {
            while (true) {
                long n;
                try {
                    n = C.getdents64(fd, b, b.size());
                } catch (LastErrorException e) {
                    if (e.getErrorCode() == EINTR) {
                        continue;
                    }
                    throw error("getdents64", operand, e);
                }
                if (n == 0) {
                    return names;
                }
                for (long off = 0; off < n; ) {
                    int reclen = b.getShort(off + 16) & 0xffff;
                    String name = new String(b.getByteArray(off + 19, (int) strlen(b, off + 19, reclen - 19)),
                            java.nio.charset.StandardCharsets.UTF_8);
                    if (!name.equals(".") && !name.equals("..")) {
                        names.add(new DirEntry(name, (b.getByte(off + 18) & 0xff) << 12)); // DT_* = S_IF* >> 12
                    }
                    off += reclen;
                }
            }
        }
    }

    private static long strlen(Memory b, long from, int max) {
        int i = 0;
        while (i < max && b.getByte(from + i) != 0) {
            i++;
        }
        return i;
    }

    @Override
    public String readLink(int fd, String operand) {
        byte[] buf = new byte[4097];
        try {
            long n = C.readlinkat(fd, "", buf, buf.length);
            if (n >= buf.length) {
                throw new SyscallException("readlinkat", operand, LinuxConstants.ENAMETOOLONG, "link target too long");
            }
            return new String(buf, 0, (int) n, java.nio.charset.StandardCharsets.UTF_8);
        } catch (LastErrorException e) {
            throw error("readlinkat", operand, e);
        }
    }
}
