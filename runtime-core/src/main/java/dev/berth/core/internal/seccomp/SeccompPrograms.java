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

    /** The profile by identity: a spec's profile is one long-lived object, and hashing its rules on every start is waste. */
    private record Key(IdentityOf profile, Set<Capability> caps, Set<String> notified) {}

    private record IdentityOf(SeccompProfile profile) {
        @Override
        public boolean equals(Object o) {
            return o instanceof IdentityOf i && i.profile == profile;
        }

        @Override
        public int hashCode() {
            return System.identityHashCode(profile);
        }
    }

    private static final int MAX_CACHED = 64;

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
        if (cache.size() > MAX_CACHED) {
            cache.clear(); // an application that makes a profile per container must not grow this forever
        }
        return cache.computeIfAbsent(new Key(new IdentityOf(profile), c, Set.copyOf(notified)),
                k -> compiler.compile(ProfileResolver.resolve(k.profile().profile(), k.caps(), arch, kernel,
                        k.notified())));
    }
}
