package dev.berth.core.internal.seccomp;

import dev.berth.core.Capability;
import dev.berth.linux.internal.Arch;
import java.util.EnumSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The programs of a runtime's containers, compiled once per profile and capability set: a start
 * under the default profile costs a map lookup, not a libseccomp run.
 */
public final class SeccompPrograms {

    private record Key(SeccompProfile profile, Set<Capability> caps, Set<String> notified) {}

    private final SeccompCompiler compiler;
    private final Arch arch;
    private final String kernel;
    private final Map<Key, BpfProgram> cache = new ConcurrentHashMap<>();

    public SeccompPrograms(SeccompCompiler compiler, Arch arch, String kernel) {
        this.compiler = compiler;
        this.arch = arch;
        this.kernel = kernel;
    }

    /** @throws IllegalArgumentException naming the profile when libseccomp refuses it */
    public BpfProgram program(SeccompProfile profile, Set<Capability> caps) {
        return program(profile, caps, Set.of());
    }

    /** @param notified syscalls handed to a listener */
    public BpfProgram program(SeccompProfile profile, Set<Capability> caps, Set<String> notified) {
        Set<Capability> c = caps.isEmpty() ? EnumSet.noneOf(Capability.class) : EnumSet.copyOf(caps);
        // identity of the parsed profile: two equal texts compile alike, and records compare by value
        return cache.computeIfAbsent(new Key(profile, c, Set.copyOf(notified)),
                k -> compiler.compile(ProfileResolver.resolve(k.profile(), k.caps(), arch, kernel, k.notified())));
    }
}
