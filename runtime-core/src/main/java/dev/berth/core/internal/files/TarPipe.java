package dev.berth.core.internal.files;

import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.io.OutputStream;
import java.util.Arrays;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A bounded pipe from a writer thread to the reader of {@link #input()}: a tar written while it is
 * read, so that copying a large tree out of a container needs neither the whole archive in
 * memory nor a temporary file. The writer's failure reaches the reader as an {@code IOException};
 * the reader's close stops the writer at its next write.
 */
final class TarPipe {
    private static final byte[] END = new byte[0];
    private final BlockingQueue<byte[]> chunks = new ArrayBlockingQueue<>(16);
    private volatile IOException failure;
    private volatile boolean readerClosed;

    OutputStream output() {
        return new OutputStream() {
            private final byte[] buf = new byte[64 * 1024];
            private int n;

            @Override
            public void write(int b) throws IOException {
                write(new byte[] {(byte) b}, 0, 1);
            }

            @Override
            public void write(byte[] b, int off, int len) throws IOException {
                while (len > 0) {
                    int k = Math.min(len, buf.length - n);
                    System.arraycopy(b, off, buf, n, k);
                    n += k;
                    off += k;
                    len -= k;
                    if (n == buf.length) {
                        flush();
                    }
                }
            }

            @Override
            public void flush() throws IOException {
                if (n > 0) {
                    put(Arrays.copyOf(buf, n));
                    n = 0;
                }
            }

            @Override
            public void close() throws IOException {
                flush();
                put(END);
            }
        };
    }

    /** The writer ended with {@code e}: the reader gets it after what was written before. */
    void fail(IOException e) {
        failure = e;
        try {
            put(END);
        } catch (IOException ignored) {
            // the reader is gone: nobody to tell
        }
    }

    private void put(byte[] chunk) throws IOException {
        try {
            while (!chunks.offer(chunk, 100, TimeUnit.MILLISECONDS)) {
                if (readerClosed) {
                    throw new IOException("the reader of the archive closed it");
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("archive writer interrupted");
        }
    }

    InputStream input() {
        return new InputStream() {
            private byte[] current = new byte[0];
            private int pos;
            private boolean ended;

            @Override
            public int read() throws IOException {
                byte[] one = new byte[1];
                return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
            }

            @Override
            public int read(byte[] b, int off, int len) throws IOException {
                if (len == 0) {
                    return 0;
                }
                while (pos == current.length) {
                    if (ended) {
                        return -1;
                    }
                    try {
                        current = chunks.take();
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        throw new InterruptedIOException("reading the archive interrupted");
                    }
                    pos = 0;
                    if (current == END) {
                        ended = true;
                        current = new byte[0];
                        if (failure != null) {
                            throw new IOException(failure.getMessage(), failure);
                        }
                    }
                }
                int k = Math.min(len, current.length - pos);
                System.arraycopy(current, pos, b, off, k);
                pos += k;
                return k;
            }

            @Override
            public void close() {
                readerClosed = true;
                chunks.clear();
            }
        };
    }
}
