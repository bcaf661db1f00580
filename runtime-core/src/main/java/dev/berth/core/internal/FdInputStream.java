package dev.berth.core.internal;

import dev.berth.core.internal.sys.SyscallException;
import dev.berth.core.internal.sys.Syscalls;
import java.io.IOException;
import java.io.InputStream;
import java.util.concurrent.atomic.AtomicBoolean;

/** The JVM's end of a pipe from the container. */
public final class FdInputStream extends InputStream {
    private final Syscalls sys;
    private final int fd;
    private final AtomicBoolean closed = new AtomicBoolean();

    public FdInputStream(Syscalls sys, int fd) {
        this.sys = sys;
        this.fd = fd;
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
        if (closed.get()) {
            throw new IOException("stream closed");
        }
        try {
            int n = sys.read(fd, b, off, len);
            return n == 0 ? -1 : n;
        } catch (SyscallException e) {
            throw new IOException(e.getMessage(), e);
        }
    }

    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) {
            sys.close(fd);
        }
    }
}
