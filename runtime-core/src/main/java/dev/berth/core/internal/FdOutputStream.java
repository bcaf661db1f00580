package dev.berth.core.internal;

import dev.berth.core.internal.sys.SyscallException;
import dev.berth.core.internal.sys.Syscalls;
import java.io.IOException;
import java.io.OutputStream;
import java.util.concurrent.atomic.AtomicBoolean;

/** The JVM's end of a pipe into the container. */
public final class FdOutputStream extends OutputStream {
    private final Syscalls sys;
    private final int fd;
    private final AtomicBoolean closed = new AtomicBoolean();

    public FdOutputStream(Syscalls sys, int fd) {
        this.sys = sys;
        this.fd = fd;
    }

    @Override
    public void write(int b) throws IOException {
        write(new byte[] {(byte) b}, 0, 1);
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
        if (closed.get()) {
            throw new IOException("stream closed");
        }
        try {
            while (len > 0) {
                int n = sys.write(fd, b, off, len);
                off += n;
                len -= n;
            }
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
