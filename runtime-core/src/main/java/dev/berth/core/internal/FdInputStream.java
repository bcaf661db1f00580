package dev.berth.core.internal;

import dev.berth.core.internal.sys.SyscallException;
import dev.berth.core.internal.sys.Syscalls;
import java.io.IOException;
import java.io.InputStream;

/** The JVM's end of a pipe from the container; safe to close while another thread reads. */
public final class FdInputStream extends InputStream {
    private final Syscalls sys;
    private final SharedFd fd;

    public FdInputStream(Syscalls sys, int fd) {
        this.sys = sys;
        this.fd = new SharedFd(sys, fd);
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
