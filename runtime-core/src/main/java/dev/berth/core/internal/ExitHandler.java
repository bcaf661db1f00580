package dev.berth.core.internal;

import dev.berth.cgroups.CgroupStats;
import dev.berth.core.ExitStatus;

/**
 * What the runtime does when a container's processes are gone, on the cleanup thread: first the
 * verdict, which may amend the status (OOM-killed) and completes {@code onExit()}; then the
 * teardown, off the exit path (cgroup removal with its bounded retries, state), which
 * {@code close()} waits for.
 */
@FunctionalInterface
public interface ExitHandler {
    ExitStatus verdict(ExitStatus raw);

    /** @param lastStats the cgroup's figures read just before the teardown, or null without them */
    default void teardown(ExitStatus status, CgroupStats lastStats) {}
}
