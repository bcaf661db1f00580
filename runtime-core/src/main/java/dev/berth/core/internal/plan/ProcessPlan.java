package dev.berth.core.internal.plan;

import dev.berth.core.internal.seccomp.BpfProgram;
import dev.berth.core.internal.user.ResolvedUser;
import java.util.List;
import java.util.Optional;

/**
 * The target process, fully resolved: argv, environment, working directory, identity, and the
 * seccomp program it runs under (none: unconfined). A process exec'd into a running container
 * gets the container's program: a filter is the container's, not one process's.
 */
public record ProcessPlan(List<String> argv, List<String> env, String cwd, ResolvedUser user,
        Optional<SeccompFilter> seccomp) {

    /** A compiled filter and the name errors give it ({@code default}, the profile's file name). */
    public record SeccompFilter(String name, BpfProgram program) {}

    public ProcessPlan {
        argv = List.copyOf(argv);
        env = List.copyOf(env);
        seccomp = seccomp == null ? Optional.empty() : seccomp;
    }

    /** Unconfined: no seccomp filter. */
    public ProcessPlan(List<String> argv, List<String> env, String cwd, ResolvedUser user) {
        this(argv, env, cwd, user, Optional.empty());
    }

    public ProcessPlan withSeccomp(Optional<SeccompFilter> filter) {
        return new ProcessPlan(argv, env, cwd, user, filter);
    }
}
