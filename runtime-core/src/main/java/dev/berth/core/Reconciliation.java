package dev.berth.core;

import java.util.List;
import java.util.Map;

/**
 * What {@link ContainerRuntime#reconcile()} did with the containers that runtimes which died left
 * under the state root.
 *
 * @param removed the ids whose leftovers (processes, cgroup, writable layer, state) are gone
 * @param failed  the ids that could not be cleaned up, with why; their state stays, so a later
 *                reconcile tries again
 */
public record Reconciliation(List<String> removed, Map<String, String> failed) {
    public Reconciliation {
        removed = List.copyOf(removed);
        failed = Map.copyOf(failed);
    }
}
