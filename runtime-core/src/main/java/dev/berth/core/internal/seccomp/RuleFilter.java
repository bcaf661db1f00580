package dev.berth.core.internal.seccomp;

import java.util.List;

/**
 * The {@code includes} or {@code excludes} of a profile rule: capabilities (all must be granted),
 * architectures (the host's must be one) and, for includes, a minimum kernel.
 */
public record RuleFilter(List<String> caps, List<String> arches, String minKernel) {

    public static final RuleFilter NONE = new RuleFilter(List.of(), List.of(), null);

    public RuleFilter {
        caps = List.copyOf(caps);
        arches = List.copyOf(arches);
    }

    public boolean isEmpty() {
        return caps.isEmpty() && arches.isEmpty() && minKernel == null;
    }
}
