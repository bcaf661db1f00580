package dev.berth.core.internal;

import dev.berth.core.internal.sys.Syscalls;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One thread, one epoll set: wakes the handler of a control socket when its monitor
 * reports. The thread count stays O(1) in the number of containers. Handlers only read
 * and hand off: nothing that blocks, and no user code, runs on this thread.
 */
public final class Reactor implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Reactor.class);

    /** Called on the reactor thread when the fd is readable (or hung up). */
    public interface Handler {
        /**
         * Returns true when the handler is done. It then closes its fd itself, which
         * also takes the fd out of the epoll set.
         */
        boolean onReadable();

        /** {@link #onReadable()} threw: the handler is dropped and must release what it holds. */
        void onFailure(RuntimeException e);
    }

    private final Syscalls sys;
    private final int epfd;
    private final int[] wake;
    private final Map<Long, Handler> handlers = new ConcurrentHashMap<>();
    private final AtomicLong tokens = new AtomicLong(1);
    private final Thread thread;
    private volatile boolean closed;

    public Reactor(Syscalls sys) {
        this.sys = sys;
        this.epfd = sys.epollCreate();
        this.wake = sys.pipe();
        sys.epollAdd(epfd, wake[0], 0);
        this.thread = new Thread(this::loop, "berth-reactor");
        thread.setDaemon(true);
        thread.start();
    }

    /** @return the registration's token, for {@link #forget} */
    public long register(int fd, Handler handler) {
        long token = tokens.getAndIncrement();
        handlers.put(token, handler);
        sys.epollAdd(epfd, fd, token);
        return token;
    }

    /**
     * Drops a handler that is not done but whose fd its owner closes now (a detached container's
     * handle let go of): closing the fd takes it out of the epoll set, this out of the handler map.
     */
    public void forget(long token) {
        handlers.remove(token);
    }

    private void loop() {
        long[] ready = new long[64];
        while (!closed) {
            int n = sys.epollWait(epfd, ready, 1000);
            for (int i = 0; i < n; i++) {
                if (ready[i] == 0) {
                    continue;
                }
                Handler h = handlers.get(ready[i]);
                if (h == null) {
                    continue;
                }
                boolean done;
                try {
                    done = h.onReadable();
                } catch (RuntimeException e) {
                    LOG.error("container event handler failed", e);
                    done = true;
                    try {
                        h.onFailure(e);
                    } catch (RuntimeException e2) {
                        LOG.error("container event handler failed to release after a failure", e2);
                    }
                }
                if (done) {
                    handlers.remove(ready[i]);
                }
            }
        }
    }

    @Override
    public void close() {
        closed = true;
        sys.write(wake[1], new byte[] {1}, 0, 1);
        try {
            thread.join(2000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        sys.close(wake[0]);
        sys.close(wake[1]);
        sys.close(epfd);
    }
}
