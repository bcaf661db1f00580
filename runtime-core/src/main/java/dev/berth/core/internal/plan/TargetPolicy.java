package dev.berth.core.internal.plan;

import dev.berth.core.Capability;
import dev.berth.core.ContainerSpec;
import dev.berth.core.Namespace;
import java.util.EnumSet;
import java.util.Set;

/**
 * What the container's own process and every process exec'd into it get between fork and exec,
 * beyond their identity: capabilities, no_new_privs, and whether they need a parent-death
 * signal. {@link PlanCompiler} turns it into the same target steps for both, and an
 * {@link ExecProfile} persists it with the container's state, so that an exec from another
 * runtime on the same state root applies exactly what the container's start applied. A new
 * restriction of the container's process belongs here (and is then persisted with it).
 *
 * @param capabilities    the bounding set, and root's effective and permitted sets
 * @param noNewPrivileges whether {@code PR_SET_NO_NEW_PRIVS} is set
 * @param ownPidNamespace whether the container has a PID namespace of its own (without one, killing
 *                        its init does not take its processes with it)
 */
public record TargetPolicy(Set<Capability> capabilities, boolean noNewPrivileges, boolean ownPidNamespace) {

    public TargetPolicy {
        capabilities = capabilities.isEmpty() ? Set.of() : Set.copyOf(EnumSet.copyOf(capabilities));
    }

    /**
     * @param devicePolicy whether the container's cgroup enforces its device policy: without one it
     *                     gets no {@code CAP_MKNOD}, since a node made in /dev would open
     */
    public static TargetPolicy of(ContainerSpec spec, boolean devicePolicy) {
        Set<Capability> granted = EnumSet.noneOf(Capability.class);
        granted.addAll(spec.capabilities());
        if (!devicePolicy) {
            granted.remove(Capability.MKNOD);
        }
        return new TargetPolicy(granted, spec.noNewPrivileges(), spec.namespaces().contains(Namespace.PID));
    }
}
