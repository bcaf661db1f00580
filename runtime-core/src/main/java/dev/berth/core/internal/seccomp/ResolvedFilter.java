package dev.berth.core.internal.seccomp;

import java.util.List;

/**
 * A profile resolved for one container on one host: the rules its capabilities, the host's
 * architecture and kernel select, with every action a filter return value.
 *
 * @param defaultAction return value for a syscall no rule names
 * @param arches        libseccomp architecture names ({@code x86_64}, {@code x86}, {@code aarch64}, ...)
 * @param flags         {@code SECCOMP_FILTER_FLAG_*} bits for {@code seccomp(2)}
 */
public record ResolvedFilter(String name, int defaultAction, List<String> arches, List<Rule> rules, long flags) {

    /** One libseccomp rule: the syscall gets the action when every condition holds. */
    public record Rule(String syscall, int action, List<ArgCondition> args) {
        public Rule {
            args = List.copyOf(args);
        }
    }

    public ResolvedFilter {
        arches = List.copyOf(arches);
        rules = List.copyOf(rules);
    }
}
