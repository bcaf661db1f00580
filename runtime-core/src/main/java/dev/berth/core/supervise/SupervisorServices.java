package dev.berth.core.supervise;

import dev.berth.core.HealthCheck;
import dev.berth.core.internal.sys.Syscalls;
import java.time.Clock;
import java.util.concurrent.Executor;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * What one runtime's supervision shares between its containers, each made on first use so a
 * runtime whose containers need none costs no thread: the event bus, the one restart thread
 * (relaunches and unhealthy actions, which may block for a start), and the one health scheduler
 * thread with its probes.
 */
public final class SupervisorServices implements AutoCloseable {
    private final Syscalls sys;
    private final Clock clock;
    private final EventBus events;
    private ScheduledExecutorService restarter;
    private HealthScheduler scheduler;
    private NetnsSockets sockets;
    private ExecProbe execProbe;
    private NetworkProbe networkProbe;
    private boolean closed;

    public SupervisorServices(Syscalls sys, Executor callbacks, Clock clock) {
        this.sys = sys;
        this.clock = clock;
        this.events = new EventBus(callbacks);
    }

    public EventBus events() {
        return events;
    }

    public Clock clock() {
        return clock;
    }

    public synchronized ScheduledExecutorService restarter() {
        check();
        if (restarter == null) {
            restarter = Executors.newSingleThreadScheduledExecutor(r -> {
                Thread t = new Thread(r, "berth-restart");
                t.setDaemon(true);
                return t;
            });
        }
        return restarter;
    }

    public synchronized HealthScheduler scheduler() {
        check();
        if (scheduler == null) {
            sockets = new NetnsSockets(sys); // opened here: on a thread in the runtime's own network namespace
            scheduler = new HealthScheduler("berth-health", sockets::enterHome);
            execProbe = new ExecProbe(scheduler, clock);
            networkProbe = new NetworkProbe(scheduler, sockets, clock);
        }
        return scheduler;
    }

    public synchronized HealthProbe probe(HealthCheck.Kind kind) {
        scheduler();
        return kind == HealthCheck.Kind.TCP || kind == HealthCheck.Kind.HTTP ? networkProbe : execProbe;
    }

    private void check() {
        if (closed) {
            throw new IllegalStateException("the runtime is closed");
        }
    }

    @Override
    public synchronized void close() {
        closed = true;
        if (restarter != null) {
            restarter.shutdownNow();
            try {
                restarter.awaitTermination(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        if (scheduler != null) {
            scheduler.close();
            sockets.close();
        }
    }
}
