package dev.berth.core.supervise;

import dev.berth.core.ContainerEvent;
import dev.berth.core.Subscription;
import java.util.ArrayDeque;
import java.util.Objects;
import java.util.Queue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Hands container events to listeners: each listener gets each event once, in the order the
 * events were published, on its executor (the runtime's callback executor unless it brought one),
 * one at a time, never on the thread that published (the reactor, cleanup and health threads
 * publish, and user code must not stall them). Every event is also committed as a JFR event.
 *
 * <p>Publishing takes one lock just to append to every listener's queue, so all listeners see one
 * order; the events of one container are published by the thread that makes them happen, in order.
 */
public final class EventBus {
    private static final Logger LOG = LoggerFactory.getLogger(EventBus.class);

    private final Executor defaultExecutor;
    private final CopyOnWriteArrayList<Listener> listeners = new CopyOnWriteArrayList<>();
    private final Object publishLock = new Object();

    public EventBus(Executor defaultExecutor) {
        this.defaultExecutor = Objects.requireNonNull(defaultExecutor, "executor");
    }

    /**
     * Registers {@code listener} for the events of container {@code id} (null: of every container),
     * called on {@code executor} (null: the bus's default).
     */
    public Subscription subscribe(String id, Consumer<ContainerEvent> listener, Executor executor) {
        Listener l = new Listener(id, Objects.requireNonNull(listener, "listener"),
                executor == null ? defaultExecutor : executor);
        listeners.add(l);
        return l::close;
    }

    public void publish(ContainerEvent e) {
        JfrContainerEvent jfr = new JfrContainerEvent();
        if (jfr.isEnabled()) {
            jfr.id = e.id();
            jfr.type = e.type().label();
            jfr.detail = e.detail();
            jfr.commit();
        }
        synchronized (publishLock) {
            for (Listener l : listeners) {
                if (l.id == null || l.id.equals(e.id())) {
                    l.enqueue(e);
                }
            }
        }
    }

    /** Whether anyone listens (a test's look at what a closed subscription leaves). */
    int listenerCount() {
        return listeners.size();
    }

    /** One listener's queue, drained by at most one task at a time on its executor: in order, once each. */
    private final class Listener {
        final String id;
        final Consumer<ContainerEvent> consumer;
        final Executor executor;
        final Queue<ContainerEvent> queue = new ArrayDeque<>();
        boolean draining;
        volatile boolean closed;

        Listener(String id, Consumer<ContainerEvent> consumer, Executor executor) {
            this.id = id;
            this.consumer = consumer;
            this.executor = executor;
        }

        void enqueue(ContainerEvent e) {
            boolean start;
            synchronized (this) {
                if (closed) {
                    return;
                }
                queue.add(e);
                start = !draining;
                draining = true;
            }
            if (start) {
                try {
                    executor.execute(this::drain);
                } catch (RejectedExecutionException x) {
                    LOG.warn("container event listener's executor refused its events; the listener is dropped: {}",
                            x.getMessage());
                    close();
                }
            }
        }

        private void drain() {
            while (true) {
                ContainerEvent e;
                synchronized (this) {
                    e = queue.poll();
                    if (e == null || closed) {
                        queue.clear();
                        draining = false;
                        return;
                    }
                }
                try {
                    consumer.accept(e);
                } catch (RuntimeException x) {
                    LOG.warn("container event listener failed on {} {}: {}", e.type(), e.id(), x.getMessage(), x);
                }
            }
        }

        void close() {
            synchronized (this) {
                closed = true;
                queue.clear();
            }
            listeners.remove(this);
        }
    }
}
