package dev.berth.core.internal;

import dev.berth.core.Subscription;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One thread for every periodic read of the JVM's containers (stats streams, log followers), however
 * many there are: it only reads (cgroup files, log files) and hands what it read to the listener's
 * executor, one delivery after the other, so a slow or blocking listener stalls neither this thread
 * nor another listener. Started on first use; a daemon thread.
 */
public final class Sampler {
    private static final Logger LOG = LoggerFactory.getLogger(Sampler.class);
    private static volatile ScheduledExecutorService thread;

    private Sampler() {}

    private static ScheduledExecutorService thread() {
        ScheduledExecutorService t = thread;
        if (t == null) {
            synchronized (Sampler.class) {
                t = thread;
                if (t == null) {
                    ScheduledThreadPoolExecutor e = new ScheduledThreadPoolExecutor(1, r -> {
                        Thread th = new Thread(r, "berth-sampler");
                        th.setDaemon(true);
                        return th;
                    });
                    e.setRemoveOnCancelPolicy(true);
                    thread = t = e;
                }
            }
        }
        return t;
    }

    /** What one read gives: values to deliver (possibly none) and whether the stream has ended. */
    public record Read<T>(Iterable<T> values, boolean ended) {}

    /**
     * Reads {@code source} every {@code period} on the sampler thread and delivers each value to
     * {@code listener} on {@code executor}, in order; ends when a read says so, when a read fails, or
     * when the subscription is closed.
     */
    public static <T> Subscription every(Duration period, Supplier<Read<T>> source, Consumer<? super T> listener,
            Executor executor) {
        AtomicBoolean closed = new AtomicBoolean();    // by the subscriber: nothing more is delivered
        AtomicBoolean finished = new AtomicBoolean();  // the stream ended: what was read is still delivered
        AtomicReference<CompletableFuture<Void>> chain = new AtomicReference<>(CompletableFuture.completedFuture(null));
        AtomicReference<ScheduledFuture<?>> task = new AtomicReference<>();
        Runnable read = () -> {
            if (closed.get() || finished.get()) {
                return;
            }
            Read<T> r;
            try {
                r = source.get();
            } catch (RuntimeException e) {
                LOG.debug("sampler: a read failed, its stream ends: {}", e.getMessage());
                r = new Read<>(java.util.List.of(), true);
            }
            for (T v : r.values()) {
                chain.getAndUpdate(c -> c.thenRunAsync(() -> {
                    if (!closed.get()) {
                        listener.accept(v);
                    }
                }, executor).exceptionally(e -> {
                    LOG.warn("a listener failed: {}", e.getMessage(), e);
                    return null;
                }));
            }
            if (r.ended()) {
                finished.set(true);
                ScheduledFuture<?> f = task.get();
                if (f != null) {
                    f.cancel(false);
                }
            }
        };
        long ms = Math.max(1, period.toMillis());
        task.set(thread().scheduleWithFixedDelay(read, 0, ms, TimeUnit.MILLISECONDS));
        if (finished.get()) {
            task.get().cancel(false); // ended on its first read, before the task was known
        }
        return () -> {
            closed.set(true);
            ScheduledFuture<?> f = task.get();
            if (f != null) {
                f.cancel(false);
            }
        };
    }
}
