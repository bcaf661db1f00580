package dev.berth.core.internal.plan;

import dev.berth.core.Namespace;
import dev.berth.core.Rlimit;
import dev.berth.core.internal.seccomp.BpfProgram;
import dev.berth.linux.internal.LinuxConstants;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * What a process exec'd into a running container inherits from the container, fixed at its
 * start: the target policy, the namespaces it has of its own, its resource limits, the
 * environment of its process (without a {@code HOME} derived from its user: an exec'd process
 * gets its own user's), its default user and working directory, and its cgroups. Kept in the
 * container's state directory ({@code exec.json}), so that a runtime that did not start the
 * container (another {@code berth} process) execs into it exactly as its own runtime would.
 *
 * @param cgroupUnified the container's v2 cgroup directory, or null
 * @param cgroupProcs   the {@code cgroup.procs} file of each of its cgroups (the v2 one included)
 * @param seccomp       the container's seccomp program, or null for none: an exec'd process is held
 *                      to the same filter as the container's own process
 * @param userNamespace whether the container has a user namespace of its own: an exec'd process enters it
 *                      first (its ids, capabilities and file owners are the container's)
 */
public record ExecProfile(TargetPolicy target, Set<Namespace> namespaces, List<Limit> rlimits, List<String> env,
        String user, String workingDir, String cgroupUnified, List<String> cgroupProcs, Filter seccomp,
        boolean userNamespace) {

    /** In the host's user namespace. */
    public ExecProfile(TargetPolicy target, Set<Namespace> namespaces, List<Limit> rlimits, List<String> env,
            String user, String workingDir, String cgroupUnified, List<String> cgroupProcs, Filter seccomp) {
        this(target, namespaces, rlimits, env, user, workingDir, cgroupUnified, cgroupProcs, seccomp, false);
    }

    /** Without a seccomp filter. */
    public ExecProfile(TargetPolicy target, Set<Namespace> namespaces, List<Limit> rlimits, List<String> env,
            String user, String workingDir, String cgroupUnified, List<String> cgroupProcs) {
        this(target, namespaces, rlimits, env, user, workingDir, cgroupUnified, cgroupProcs, null);
    }

    /**
     * The container's seccomp program, as kept in {@code exec.json}.
     *
     * @param flags        the container's load flags
     * @param instructions one {@code struct sock_filter} per element
     */
    public record Filter(String name, long flags, List<Long> instructions) {
        public Filter {
            instructions = List.copyOf(instructions);
        }

        public static Filter of(Optional<ProcessPlan.SeccompFilter> f) {
            return f.map(x -> new Filter(x.name(), x.program().flags(),
                    java.util.Arrays.stream(x.program().instructions()).boxed().toList())).orElse(null);
        }

        /**
         * The filter an exec'd process loads: the container's program without a listener of its own
         * (the container's listener hears the container's process; a notified syscall of an exec'd
         * process fails with ENOSYS, as the kernel answers where no listener is).
         */
        public ProcessPlan.SeccompFilter filter() {
            long[] insns = instructions.stream().mapToLong(Long::longValue).toArray();
            return new ProcessPlan.SeccompFilter(name,
                    new BpfProgram(insns, flags & ~(long) LinuxConstants.SECCOMP_FILTER_FLAG_NEW_LISTENER));
        }
    }

    /** A resource limit: {@code setrlimit(resource, {soft, hard})}, named in errors. */
    public record Limit(int resource, long soft, long hard, String name) {
        static List<Limit> of(List<Rlimit> rlimits) {
            List<Limit> out = new ArrayList<>();
            for (Rlimit r : rlimits) {
                out.add(new Limit(r.type().resource(), r.soft(), r.hard(), "RLIMIT_" + r.type().name()));
            }
            return out;
        }
    }

    public ExecProfile {
        namespaces = namespaces.isEmpty() ? Set.of() : Set.copyOf(EnumSet.copyOf(namespaces));
        rlimits = List.copyOf(rlimits);
        env = List.copyOf(env);
        cgroupProcs = List.copyOf(cgroupProcs);
    }

    /** The limits of a container with these rlimits. */
    public static List<Limit> limits(List<Rlimit> rlimits) {
        return Limit.of(rlimits);
    }
}
