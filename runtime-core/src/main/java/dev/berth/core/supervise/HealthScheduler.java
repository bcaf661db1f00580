package dev.berth.core.supervise;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.SelectableChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.time.Duration;
import java.util.PriorityQueue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one thread that runs every container's health checks: timers, and non-blocking sockets on a
 * selector, so a slow check of one container never delays another's and the thread count stays
 * one however many containers are checked. Nothing on it blocks: exec checks are started on it and
 * report back, TCP and HTTP checks connect, write and read without waiting.
 *
 * <p>A thread that may have been left in a container's network namespace ({@link
 * StrandedThreadError}) runs nothing else: it hands its timers and selector to a new thread, which
 * first moves itself back to the runtime's namespace, and ends.
 */
public final class HealthScheduler implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(HealthScheduler.class);

    /** Called on the scheduler thread when its channel is ready. */
    public interface IoHandler {
        void ready(SelectionKey key);

        /** The scheduler closes: release the channel. */
        void abandon();
    }

    /** A timer that may be cancelled (from any thread). */
    public interface Cancellable {
        void cancel();
    }

    private record Timer(long due, long seq, Runnable task, boolean[] cancelled) implements Comparable<Timer> {
        @Override
        public int compareTo(Timer o) {
            return due != o.due ? Long.compare(due, o.due) : Long.compare(seq, o.seq);
        }
    }

    private final String name;
    private final Runnable threadSetup;
    private final Selector selector;
    private final PriorityQueue<Timer> timers = new PriorityQueue<>();
    private final ConcurrentLinkedQueue<Runnable> inbox = new ConcurrentLinkedQueue<>();
    private final AtomicLong seq = new AtomicLong();
    private final AtomicLong generation = new AtomicLong();
    private volatile Thread thread;
    private volatile boolean closed;

    /**
     * @param threadSetup runs first on each new scheduler thread (it moves the thread to the runtime's
     *                    own network namespace); a failure is a {@link StrandedThreadError}
     */
    public HealthScheduler(String name, Runnable threadSetup) {
        this.name = name;
        this.threadSetup = threadSetup;
        try {
            this.selector = Selector.open();
        } catch (IOException e) {
            throw new UncheckedIOException("health scheduler: opening a selector: " + e.getMessage(), e);
        }
        startThread();
    }

    private void startThread() {
        Thread t = new Thread(this::loop, name + "-" + generation.incrementAndGet());
        t.setDaemon(true);
        thread = t;
        t.start();
    }

    /** Runs {@code task} on the scheduler thread, soon. */
    public void execute(Runnable task) {
        if (closed) {
            return; // nothing runs any more
        }
        inbox.add(task);
        selector.wakeup();
    }

    /** Runs {@code task} on the scheduler thread after {@code delay}. */
    public Cancellable schedule(Duration delay, Runnable task) {
        boolean[] cancelled = new boolean[1];
        long due = System.nanoTime() + Math.max(0, delay.toNanos());
        Timer t = new Timer(due, seq.incrementAndGet(), task, cancelled);
        execute(() -> timers.add(t));
        return () -> execute(() -> cancelled[0] = true);
    }

    /** Registers {@code channel} (non-blocking) for {@code ops}; call on the scheduler thread. */
    public SelectionKey register(SelectableChannel channel, int ops, IoHandler handler) throws IOException {
        return channel.register(selector, ops, handler);
    }

    public boolean onSchedulerThread() {
        return Thread.currentThread() == thread;
    }

    private void loop() {
        try {
            threadSetup.run();
        } catch (StrandedThreadError e) {
            LOG.error("health scheduler: a new thread could not move to the runtime's network namespace; TCP and HTTP"
                    + " checks stop: {}", e.getMessage());
            return;
        }
        while (!closed) {
            try {
                turn();
            } catch (StrandedThreadError e) {
                LOG.error("health scheduler thread {} may be left in a container's network namespace; it ends and"
                        + " another takes over: {}", Thread.currentThread().getName(), e.getMessage());
                if (!closed) {
                    startThread(); // the new thread moves itself home before anything else
                }
                return;
            } catch (RuntimeException e) {
                LOG.error("health scheduler: a task failed: {}", e.getMessage(), e);
            }
        }
        for (SelectionKey k : selector.keys()) {
            if (k.attachment() instanceof IoHandler h) {
                h.abandon();
            }
        }
        try {
            selector.close();
        } catch (IOException e) {
            LOG.debug("health scheduler: closing its selector: {}", e.getMessage());
        }
    }

    private void turn() {
        Runnable r;
        while ((r = inbox.poll()) != null) {
            r.run();
        }
        long now = System.nanoTime();
        while (!timers.isEmpty() && timers.peek().due() - now <= 0) {
            Timer t = timers.poll();
            if (!t.cancelled()[0]) {
                t.task().run();
            }
            now = System.nanoTime();
        }
        long waitMillis = timers.isEmpty() ? 1000 : Math.max(1, (timers.peek().due() - now + 999_999) / 1_000_000);
        try {
            if (!inbox.isEmpty()) {
                selector.selectNow();
            } else {
                selector.select(Math.min(waitMillis, 1000));
            }
        } catch (IOException e) {
            throw new UncheckedIOException("health scheduler: select: " + e.getMessage(), e);
        }
        var it = selector.selectedKeys().iterator();
        while (it.hasNext()) {
            SelectionKey k = it.next();
            it.remove();
            if (k.isValid() && k.attachment() instanceof IoHandler h) {
                h.ready(k);
            }
        }
    }

    @Override
    public void close() {
        closed = true;
        selector.wakeup();
        Thread t = thread;
        if (t != null && t != Thread.currentThread()) {
            try {
                t.join(2000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
