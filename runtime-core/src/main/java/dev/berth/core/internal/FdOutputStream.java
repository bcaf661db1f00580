package dev.berth.core.internal;

import dev.berth.core.internal.sys.SyscallException;
import dev.berth.core.internal.sys.Syscalls;
import java.io.IOException;
import java.io.OutputStream;

/** The JVM's end of a pipe into the container; safe to close while another thread writes. */
public final class FdOutputStream extends OutputStream {
    private final Syscalls sys;
    private final SharedFd fd;

    public FdOutputStream(Syscalls sys, int fd) {
        this.sys = sys;
        this.fd = new SharedFd(sys, fd);
    }

    @Override
    public void write(int b) throws IOException {
        write(new byte[] {(byte) b}, 0, 1);
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
        int f = fd.acquire();
        try {
            while (len > 0) {
                int n = sys.write(f, b, off, len);
                off += n;
                len -= n;
            }
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
