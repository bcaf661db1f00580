package dev.berth.examples.internal.linux;

import com.sun.jna.LastErrorException;
import com.sun.jna.Library;
import com.sun.jna.Memory;
import com.sun.jna.Native;
import com.sun.jna.Pointer;
import dev.berth.linux.internal.LinuxConstants;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * A pseudo-terminal of the host's devpts for tests to run a program on, as a terminal emulator
 * does: the test holds the master (reads the screen, types, resizes), the program gets the slave.
 * The JNA of the examples' tests; the launcher itself uses none.
 */
public final class TestPty implements AutoCloseable {

    interface C extends Library {
        int posix_openpt(int flags) throws LastErrorException;

        int grantpt(int fd) throws LastErrorException;

        int unlockpt(int fd) throws LastErrorException;

        String ptsname(int fd);

        int open(String path, int flags) throws LastErrorException;

        long read(int fd, byte[] buf, long len) throws LastErrorException;

        long write(int fd, byte[] buf, long len) throws LastErrorException;

        int close(int fd) throws LastErrorException;

        int ioctl(int fd, long request, Pointer arg) throws LastErrorException;

        int poll(Pointer fds, int nfds, int timeout) throws LastErrorException;
    }

    private static final C LIBC = Native.load("c", C.class);

    private final int master;
    /** Held open so that the master reads no end of file while no program has the slave. */
    private final int slaveFd;
    private final Path slave;
    private final StringBuffer screen = new StringBuffer();
    private final Thread reader;
    private volatile boolean closed;

    private TestPty(int master, Path slave, int slaveFd) {
        this.master = master;
        this.slave = slave;
        this.slaveFd = slaveFd;
        this.reader = new Thread(this::readScreen, "test-pty-reader");
        reader.setDaemon(true);
        reader.start();
    }

    /** A new pty of {@code columns} x {@code rows}, with the kernel's default (cooked) settings. */
    public static TestPty open(int columns, int rows) {
        int m = LIBC.posix_openpt(LinuxConstants.O_RDWR | LinuxConstants.O_NOCTTY | LinuxConstants.O_CLOEXEC);
        LIBC.grantpt(m);
        LIBC.unlockpt(m);
        Path slave = Path.of(LIBC.ptsname(m));
        int s = LIBC.open(slave.toString(), LinuxConstants.O_RDWR | LinuxConstants.O_NOCTTY | LinuxConstants.O_CLOEXEC);
        TestPty pty = new TestPty(m, slave, s);
        pty.resize(columns, rows);
        return pty;
    }

    /** The slave's path (/dev/pts/N), for the program's stdio. */
    public Path slave() {
        return slave;
    }

    /** Everything the program has written so far. */
    public String screen() {
        return screen.toString();
    }

    /** Keystrokes. */
    public void type(byte... bytes) {
        LIBC.write(master, bytes, bytes.length);
    }

    /** TIOCSWINSZ on the master, as a terminal emulator whose window changed: SIGWINCH to the foreground group. */
    public void resize(int columns, int rows) {
        try (Memory ws = new Memory(LinuxConstants.WINSIZE_SIZE)) {
            ws.clear();
            ws.setShort(0, (short) rows);
            ws.setShort(2, (short) columns);
            LIBC.ioctl(master, LinuxConstants.TIOCSWINSZ, ws);
        }
    }

    private void readScreen() {
        byte[] buf = new byte[4096];
        try (Memory pfd = new Memory(8)) {
            while (!closed) {
                pfd.setInt(0, master);
                pfd.setShort(4, (short) LinuxConstants.POLLIN);
                pfd.setShort(6, (short) 0);
                try {
                    if (LIBC.poll(pfd, 1, 100) > 0) {
                        long n = LIBC.read(master, buf, buf.length);
                        screen.append(new String(buf, 0, (int) n, StandardCharsets.UTF_8));
                    }
                } catch (LastErrorException e) {
                    if (e.getErrorCode() != LinuxConstants.EINTR && e.getErrorCode() != LinuxConstants.EIO) {
                        screen.append("[pty read failed: ").append(e.getMessage()).append(']');
                        return;
                    }
                }
            }
        }
    }

    @Override
    public void close() throws InterruptedException {
        closed = true;
        reader.join(5000);
        LIBC.close(slaveFd);
        LIBC.close(master);
    }
}
