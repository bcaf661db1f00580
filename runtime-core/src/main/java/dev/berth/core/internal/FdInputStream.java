package dev.berth.core.internal;

import dev.berth.core.internal.sys.SyscallException;
import dev.berth.core.internal.sys.Syscalls;
import java.io.IOException;
import java.io.InputStream;

/** The JVM's end of a pipe (or pty) from the container; safe to close while another thread reads. */
public final class FdInputStream extends InputStream {
    private final Syscalls sys;
    private final SharedFd fd;
    private final boolean hangupIsEnd;

    public FdInputStream(Syscalls sys, int fd) {
        this(sys, fd, false);
    }

    /**
     * @param hangupIsEnd for a pty master: a read once every slave fd is closed fails with EIO (after
     *                    what was written is read), which is its end of file
     */
    FdInputStream(Syscalls sys, int fd, boolean hangupIsEnd) {
        this.sys = sys;
        this.fd = new SharedFd(sys, fd);
        this.hangupIsEnd = hangupIsEnd;
    }

    @Override
    public int read() throws IOException {
        byte[] one = new byte[1];
        return read(one, 0, 1) <= 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        if (len == 0) {
            return 0;
        }
        int f = fd.acquire();
        try {
            int n = sys.read(f, b, off, len);
            return n == 0 ? -1 : n;
        } catch (SyscallException e) {
            if (hangupIsEnd && e.errno() == Syscalls.EIO) {
                return -1;
            }
            throw new IOException(e.getMessage(), e);
        } finally {
            fd.release();
        }
    }

    @Override
    public void close() {
        fd.close();
    }
}
