package dev.berth.core.supervise;

import dev.berth.core.ContainerException;
import dev.berth.core.ExecProcess;
import dev.berth.core.ExecSpec;
import dev.berth.core.HealthCheck;
import dev.berth.core.HealthResult;
import dev.berth.core.internal.state.ProcessId;
import java.nio.file.Path;
import java.util.function.Consumer;

/**
 * Runs one health check of one container. Started on the health scheduler thread; must not block
 * it: it reports its result later, exactly once, through {@code done} (on the scheduler thread),
 * within the check's timeout.
 */
@FunctionalInterface
public interface HealthProbe {

    /** What a probe needs of the container it checks. */
    interface Target {
        String id();

        /** The current incarnation's init (pid and start time). */
        ProcessId init();

        /** {@link dev.berth.core.Container#exec}. */
        ExecProcess exec(ExecSpec spec) throws ContainerException;

        /** A file private to the runtime that an exec check's output goes to (created, truncated and read by it). */
        Path outputFile();
    }

    void run(HealthCheck check, Target target, Consumer<HealthResult> done);
}
