package dev.berth.core.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * A stream closed while another thread reads from it: the fd is closed only once that read has
 * returned, so the read can never land on a file that reused the number.
 */
class SharedFdTest {

    /** A fake whose read of fd 10 blocks until released, and which records closes. */
    private static final class BlockingRead extends RecordingSyscalls {
        final CountDownLatch reading = new CountDownLatch(1);
        final CountDownLatch release = new CountDownLatch(1);

        @Override
        public int read(int fd, byte[] buf, int off, int len) {
            synchronized (this) {
                calls.add("read " + fd);
            }
            reading.countDown();
            try {
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return 0;
        }

        @Override
        public synchronized void close(int fd) {
            calls.add("close " + fd);
        }

        synchronized boolean closed(int fd) {
            return calls.contains("close " + fd);
        }
    }

    @Test
    void closeDuringAReadWaitsForTheReadToReturn() throws Exception {
        BlockingRead sys = new BlockingRead();
        FdInputStream in = new FdInputStream(sys, 10);
        CompletableFuture<Integer> read = CompletableFuture.supplyAsync(() -> {
            try {
                return in.read(new byte[8], 0, 8);
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
        assertThat(sys.reading.await(10, TimeUnit.SECONDS)).isTrue();
        in.close();
        assertThat(sys.closed(10)).as("not closed under a running read").isFalse();
        assertThatThrownBy(() -> in.read(new byte[1], 0, 1)).isInstanceOf(IOException.class).hasMessage("stream closed");
        sys.release.countDown();
        assertThat(read.get(10, TimeUnit.SECONDS)).isEqualTo(-1);
        assertThat(sys.closed(10)).as("closed by the last user").isTrue();
        in.close();
        assertThat(sys.calls.stream().filter(c -> c.equals("close 10"))).hasSize(1);
    }

    @Test
    void anIdleStreamClosesAtOnceAndOnlyOnce() throws IOException {
        RecordingSyscalls sys = new RecordingSyscalls();
        FdOutputStream out = new FdOutputStream(sys, 11);
        out.write(new byte[] {1});
        out.close();
        out.close();
        assertThat(sys.calls).containsOnlyOnce("close 11");
        assertThatThrownBy(() -> out.write(1)).isInstanceOf(IOException.class).hasMessage("stream closed");
    }
}
