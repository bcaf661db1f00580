package dev.berth.core.internal;

import dev.berth.core.internal.sys.SyscallException;
import dev.berth.core.internal.sys.Syscalls;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A fake kernel for unit tests: records every call as a line ("spawn ...", "write 10 G")
 * and answers reads on the control socket from a script of monitor messages.
 */
class RecordingSyscalls implements Syscalls {
    final List<String> calls = new ArrayList<>();
    final Deque<byte[]> monitorReplies = new ArrayDeque<>();
    final List<byte[]> written = new ArrayList<>();
    final List<Integer> writtenFds = new ArrayList<>();
    Map<Integer, Integer> spawnedFds;
    List<String> spawnedArgv;
    private int nextFd = 10;
    int controlFd = -1;
    /** What F_GET_SEALS answers; null: the seals added so far. */
    Integer sealsOverride;
    private int seals;
    /** When true, the control socket never becomes readable (a monitor that hangs). */
    boolean monitorSilent;
    /** The fds the monitor passes (SCM_RIGHTS) with its scripted 'T' replies, in order. */
    final Deque<Integer> passedFds = new ArrayDeque<>();

    private int fd() {
        return nextFd++;
    }

    @Override
    public int memfdCreate(String name, int flags) {
        calls.add("memfd_create " + name);
        return fd();
    }

    @Override
    public void addSeals(int fd, int seals) {
        calls.add("add_seals " + fd + " " + seals);
        this.seals |= seals;
    }

    @Override
    public int getSeals(int fd) {
        calls.add("get_seals " + fd);
        return sealsOverride != null ? sealsOverride : seals;
    }

    @Override
    public boolean killChild(long pid, int signal) {
        calls.add("kill " + pid + " " + signal);
        return true;
    }

    @Override
    public boolean pollIn(int fd, int timeoutMillis) {
        calls.add("poll " + fd);
        return !(fd == controlFd && monitorSilent);
    }

    @Override
    public long argMax() {
        return 2 << 20;
    }

    @Override
    public int open(String path, int flags, int mode) {
        int fd = fd();
        openedPaths.put(fd, path);
        calls.add("open " + path + " -> " + fd);
        return fd;
    }

    @Override
    public int openat2(int dirfd, String path, int flags, long resolve) {
        throw new UnsupportedOperationException("openat2 is not scripted in this fake");
    }

    @Override
    public void close(int fd) {
        calls.add("close " + fd);
    }

    @Override
    public int read(int fd, byte[] buf, int off, int len) {
        calls.add("read " + fd);
        if (fd != controlFd || monitorReplies.isEmpty()) {
            return 0;
        }
        byte[] m = monitorReplies.poll();
        System.arraycopy(m, 0, buf, off, m.length);
        return m.length;
    }

    @Override
    public int write(int fd, byte[] buf, int off, int len) {
        String opened = openedPaths.get(fd);
        Integer errno = opened == null ? null : writeErrors.get(opened);
        if (errno != null) {
            throw new SyscallException("write", String.valueOf(fd), errno, strerror(errno));
        }
        byte[] copy = java.util.Arrays.copyOfRange(buf, off, off + len);
        written.add(copy);
        writtenFds.add(fd);
        calls.add("write " + fd + (len == 1 ? " " + (char) copy[0] : " " + len + " bytes"));
        return len;
    }

    @Override
    public int[] socketpair() {
        int[] p = {fd(), fd()};
        controlFd = p[0];
        calls.add("socketpair -> " + p[0] + "," + p[1]);
        return p;
    }

    @Override
    public int[] pipe() {
        int[] p = {fd(), fd()};
        calls.add("pipe -> " + p[0] + "," + p[1]);
        return p;
    }

    @Override
    public long spawn(String path, List<String> argv, List<String> env, Map<Integer, Integer> fds) {
        spawnedFds = new TreeMap<>(fds);
        spawnedArgv = argv;
        calls.add("spawn " + path + " " + argv + " " + spawnedFds);
        return 4242;
    }

    @Override
    public int waitpid(long pid, boolean noHang) {
        calls.add("waitpid " + pid);
        return 0;
    }

    @Override
    public int pidfdOpen(long pid) {
        int fd = fd();
        calls.add("pidfd_open " + pid + " -> " + fd);
        return fd;
    }

    @Override
    public boolean pidfdSendSignal(int pidfd, int signal) {
        calls.add("pidfd_send_signal " + pidfd + " " + signal);
        return true;
    }

    @Override
    public int epollCreate() {
        return fd();
    }

    @Override
    public void epollAdd(int epfd, int fd, long token) {
        calls.add("epoll_add " + fd);
    }

    @Override
    public int epollWait(int epfd, long[] tokens, int timeoutMillis) {
        try {
            Thread.sleep(Math.min(timeoutMillis, 20));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return 0;
    }

    @Override
    public int receive(int socket, byte[] buf, int[] fd) {
        fd[0] = -1;
        boolean passes = socket == controlFd && !monitorReplies.isEmpty() && (monitorReplies.peek()[0] == 'T' || monitorReplies.peek()[0] == 'N');
        int n = read(socket, buf, 0, buf.length);
        if (passes && !passedFds.isEmpty()) {
            fd[0] = passedFds.poll();
            calls.add("received fd " + fd[0]);
        }
        return n;
    }

    @Override
    public int dup(int fd) {
        int d = fd();
        calls.add("dup " + fd + " -> " + d);
        return d;
    }

    @Override
    public boolean isatty(int fd) {
        return false;
    }

    @Override
    public int[] windowSize(int fd) {
        throw new UnsupportedOperationException("no terminals in this fake");
    }

    @Override
    public void setWindowSize(int fd, int columns, int rows) {
        calls.add("winsize " + fd + " " + columns + "x" + rows);
    }

    @Override
    public byte[] tcgetattr(int fd) {
        throw new UnsupportedOperationException("no terminals in this fake");
    }

    @Override
    public void tcsetattr(int fd, byte[] termios) {
        throw new UnsupportedOperationException("no terminals in this fake");
    }

    @Override
    public byte[] makeRaw(byte[] termios) {
        throw new UnsupportedOperationException("no terminals in this fake");
    }

    @Override
    public String strerror(int errno) {
        return switch (errno) {
            case 1 -> "Operation not permitted";
            case 2 -> "No such file or directory";
            case 22 -> "Invalid argument";
            default -> "errno " + errno;
        };
    }

    /** Paths open_tree refuses, with the errno it fails with. */
    final Map<String, Integer> openTreeErrors = new TreeMap<>();

    @Override
    public int openTree(int dirfd, String path, int flags, String operand) {
        Integer errno = openTreeErrors.get(operand);
        if (errno != null) {
            throw new SyscallException("open_tree", operand, errno, strerror(errno));
        }
        int fd = fd();
        calls.add("open_tree " + operand + " " + flags + " -> " + fd);
        return fd;
    }

    /** Map files whose write fails, with the errno. */
    final Map<String, Integer> writeErrors = new TreeMap<>();
    /** The path each fd open() returned was opened for. */
    final Map<Integer, String> openedPaths = new TreeMap<>();
    /** The fds sent with sendFd, in order. */
    final List<Integer> sentFds = new ArrayList<>();

    @Override
    public void mountSetattrIdmap(int fd, int flags, int usernsFd, String operand) {
        calls.add("mount_setattr " + fd + " " + flags + " MOUNT_ATTR_IDMAP userns " + usernsFd + " " + operand);
    }

    @Override
    public int fsopen(String fsType, String operand) {
        int fd = fd();
        calls.add("fsopen " + fsType + " -> " + fd);
        return fd;
    }

    @Override
    public void fsconfigString(int fsfd, String key, String value, String operand) {
        calls.add("fsconfig " + fsfd + " " + key + "=" + value);
    }

    @Override
    public void fsconfigCreate(int fsfd, String operand) {
        calls.add("fsconfig " + fsfd + " create");
    }

    @Override
    public int fsmount(int fsfd, String operand) {
        int fd = fd();
        calls.add("fsmount " + fsfd + " -> " + fd);
        return fd;
    }

    @Override
    public void sendFd(int socket, int fd, String operand) {
        sentFds.add(fd);
        calls.add("sendfd " + socket + " " + fd + " " + operand);
    }

    @Override
    public void sendWithFd(int socket, byte[] data, int fd, String operand) {
        sentFds.add(fd);
        calls.add("sendmsg " + socket + " " + data.length + " bytes fd " + fd + " " + operand);
    }

    @Override
    public FileStat fstat(int fd, String operand) {
        calls.add("statx " + fd);
        throw new SyscallException("statx", operand, ENOSYS, "not in the recording fake");
    }

    @Override
    public List<DirEntry> listDirectory(int fd, String operand) {
        calls.add("getdents64 " + fd);
        return List.of();
    }

    @Override
    public String readLink(int fd, String operand) {
        calls.add("readlinkat " + fd);
        throw new SyscallException("readlinkat", operand, ENOSYS, "not in the recording fake");
    }

    @Override
    public void mountSetattr(int fd, int flags, long attrSet, long propagation, String operand) {
        calls.add("mount_setattr " + fd + " " + flags + " " + attrSet + " " + propagation);
    }

    @Override
    public boolean flock(int fd, int operation, String operand) {
        calls.add("flock " + fd + " " + operation);
        return true;
    }

    @Override
    public java.util.List<String> listXattrs(String path) {
        calls.add("llistxattr " + path);
        return java.util.List.of();
    }

    @Override
    public byte[] getXattr(String path, String name) {
        calls.add("lgetxattr " + path + " " + name);
        return new byte[0];
    }

    @Override
    public void setXattr(String path, String name, byte[] value) {
        calls.add("lsetxattr " + path + " " + name);
    }

    static SyscallException enoent(String call, String operand) {
        return new SyscallException(call, operand, 2, "No such file or directory");
    }

    static byte[] message(char type, int... ints) {
        java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(1 + 4 * ints.length).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        b.put((byte) type);
        for (int i : ints) {
            b.putInt(i);
        }
        return b.array();
    }

    static byte[] error(int op, int errno, String operand) {
        byte[] head = message('E', op, errno);
        byte[] s = operand.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        byte[] out = java.util.Arrays.copyOf(head, head.length + s.length);
        System.arraycopy(s, 0, out, head.length, s.length);
        return out;
    }

    @Override
    public int pollEvents(int fd) {
        calls.add("poll events " + fd);
        return POLLIN;
    }

    @Override
    public boolean seccompNotifReceive(int fd, byte[] notif) {
        calls.add("notif recv " + fd);
        return false;
    }

    @Override
    public boolean seccompNotifRespond(int fd, long id, long value, int error, int flags) {
        calls.add("notif send " + fd + " " + id + " " + value + " " + error + " " + flags);
        return true;
    }

    @Override
    public void setns(int fd, long nstype, String operand) {
        calls.add("setns " + fd + " " + nstype + " " + operand);
    }

    @Override
    public void bindMount(String source, String target) {
        calls.add("mount --bind " + source + " " + target);
    }

    @Override
    public void umount(String target, int flags) {
        calls.add("umount2 " + target + " " + flags);
    }
}
