package dev.berth.core.internal.plan;

import dev.berth.core.internal.user.ResolvedUser;
import java.util.List;

/** The target process, fully resolved: argv, environment, working directory and identity. */
public record ProcessPlan(List<String> argv, List<String> env, String cwd, ResolvedUser user) {
    public ProcessPlan {
        argv = List.copyOf(argv);
        env = List.copyOf(env);
    }
}
