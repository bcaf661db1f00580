package dev.berth.core.supervise;

import dev.berth.core.ContainerException;
import dev.berth.core.ExecProcess;
import dev.berth.core.ExecSpec;
import dev.berth.core.Health;
import dev.berth.core.HealthCheck;
import dev.berth.core.HealthStatus;
import dev.berth.core.internal.Supervision;
import dev.berth.core.internal.state.ProcessId;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.function.BiConsumer;

/**
 * One container's health as a handle reports it, whoever runs its checks: a {@link SupervisedContainer}
 * (the starter's handle) or an adopted handle of another process. It holds the check in effect (the
 * spec's, or the image's), the last result ({@link dev.berth.core.Container#health()}) and the future
 * that completes when the container first becomes healthy ({@link dev.berth.core.Container#onHealthy()}),
 * and makes the {@link HealthMonitor} of each run.
 */
public final class ContainerHealth {
    /** How a run's exec checks enter it. */
    @FunctionalInterface
    public interface Exec {
        ExecProcess exec(ExecSpec spec) throws ContainerException;
    }

    private final String id;
    private final Optional<HealthCheck> check;
    private final Supervision supervision;
    private final CompletableFuture<Void> healthy = new CompletableFuture<>();
    private volatile Health last;

    public ContainerHealth(String id, Optional<HealthCheck> check, Supervision supervision) {
        this.id = id;
        this.check = check;
        this.supervision = supervision;
    }

    public Optional<HealthCheck> check() {
        return check;
    }

    /** The last result; empty without a check (or before its first run's checks began). */
    public Optional<Health> health() {
        return check.isPresent() ? Optional.ofNullable(last) : Optional.empty();
    }

    /** The status last reported, or null. */
    public HealthStatus status() {
        Health h = last;
        return h == null ? null : h.status();
    }

    /** Completes when it first becomes healthy; failed at once without a check. */
    public CompletableFuture<Void> onHealthy() {
        if (check.isEmpty()) {
            return CompletableFuture.failedFuture(new IllegalStateException("container " + id
                    + " has no health check"));
        }
        return supervision.forCallers(healthy);
    }

    /** A result came (or a run's checks begin, from {@code h}); {@code healthy} completes on the first healthy. */
    public void update(Health h) {
        last = h;
        if (h.status() == HealthStatus.HEALTHY) {
            healthy.complete(null);
        }
    }

    /** It will never become healthy (it ended, was removed, or its handle closed): {@code "container ID" + why}. */
    public void neverHealthy(String why) {
        healthy.completeExceptionally(new IllegalStateException("container " + id + why));
    }

    /**
     * The checks of one run, not started yet: {@code onResult} gets each result on the health
     * scheduler thread, with the status it changed to (or null).
     *
     * @param init   the run's init (pid and start time: a recycled pid is never entered)
     * @param exec   how an exec check enters the run
     * @param output a file private to the runtime for exec checks' output
     */
    public HealthMonitor monitor(SupervisorServices services, ProcessId init, Exec exec, Path output,
            BiConsumer<Health, HealthStatus> onResult) {
        HealthCheck hc = check.orElseThrow(() -> new IllegalStateException("container " + id + " has no health check"));
        HealthProbe.Target target = new HealthProbe.Target() {
            @Override
            public String id() {
                return id;
            }

            @Override
            public ProcessId init() {
                return init;
            }

            @Override
            public ExecProcess exec(ExecSpec spec) throws ContainerException {
                return exec.exec(spec);
            }

            @Override
            public Path outputFile() {
                return output;
            }
        };
        return new HealthMonitor(hc, services.probe(hc.kind()), target, services.scheduler(), services.clock(),
                onResult);
    }
}
