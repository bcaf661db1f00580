package dev.berth.core.internal.seccomp;

import java.util.List;

/** One entry of a profile's {@code syscalls}: these names get this action when every argument condition holds. */
public record SyscallRule(List<String> names, SeccompAction action, Integer errnoRet, List<ArgCondition> args,
        RuleFilter includes, RuleFilter excludes) {
    public SyscallRule {
        names = List.copyOf(names);
        args = List.copyOf(args);
    }
}
