package dev.berth.core.internal.seccomp;

import dev.berth.core.Capability;
import dev.berth.linux.internal.Arch;
import java.util.EnumSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;

/**
 * The programs of a runtime's containers, compiled once per profile and capability set: a start
 * under the default profile costs a map lookup, not a libseccomp run.
 *
 * <p>A program depends on the profile's value (not on which object holds it: a profile read again
 * from the same file, or a spec restored from its state, finds the program already made), on the
 * capabilities the profile's rules name in their {@code includes} and {@code excludes} (the others
 * change nothing, so specs that differ only in them share one program), on the syscalls handed to a
 * listener, and on the host's architecture and kernel release, which are this instance's.
 */
public final class SeccompPrograms {

    /**
     * One per distinct profile value, found by the profile object's identity: a start then neither hashes
     * nor compares the profile's rules (a record's hash walks all of them), only a profile object not
     * seen before is looked up by value once. Equal by identity.
     */
    private static final class Canonical {
        final SeccompProfile profile;
        /** The capabilities the profile's includes and excludes name. */
        final Set<Capability> named;

        Canonical(SeccompProfile profile) {
            this.profile = profile;
            this.named = relevantCaps(profile, EnumSet.allOf(Capability.class));
        }
    }

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

    private record Key(Canonical profile, Set<Capability> caps, Set<String> notified) {}

    private static final int MAX_CACHED = 64;

    private final Function<ResolvedFilter, BpfProgram> compiler;
    private final Arch arch;
    private final String kernel;
    private final Map<Key, BpfProgram> cache = new ConcurrentHashMap<>();
    private final Map<SeccompProfile, Canonical> byValue = new ConcurrentHashMap<>();
    private final Map<IdentityOf, Canonical> byIdentity = new ConcurrentHashMap<>();

    public SeccompPrograms(SeccompCompiler compiler, Arch arch, String kernel) {
        this(compiler::compile, arch, kernel);
    }

    SeccompPrograms(Function<ResolvedFilter, BpfProgram> compiler, Arch arch, String kernel) {
        this.compiler = compiler;
        this.arch = arch;
        this.kernel = kernel;
    }

    /** @throws IllegalArgumentException naming the profile when libseccomp refuses it */
    public BpfProgram program(SeccompProfile profile, Set<Capability> caps) {
        return program(profile, caps, Set.of());
    }

    /**
     * @param notified syscalls handed to a listener
     * @throws IllegalArgumentException naming the profile when libseccomp refuses it
     */
    public BpfProgram program(SeccompProfile profile, Set<Capability> caps, Set<String> notified) {
        if (cache.size() > MAX_CACHED || byIdentity.size() > MAX_CACHED) {
            // an application that makes a profile per container must not grow these forever
            cache.clear();
            byIdentity.clear();
            byValue.clear();
        }
        Canonical c = byIdentity.get(new IdentityOf(profile));
        if (c == null) {
            c = byValue.computeIfAbsent(profile, Canonical::new);
            byIdentity.put(new IdentityOf(profile), c);
        }
        Set<Capability> relevant = EnumSet.noneOf(Capability.class);
        for (Capability cap : caps) {
            if (c.named.contains(cap)) {
                relevant.add(cap);
            }
        }
        // concurrent starts that need the same new program wait for one compile (computeIfAbsent)
        return cache.computeIfAbsent(new Key(c, relevant, notified.isEmpty() ? Set.of() : Set.copyOf(notified)),
                k -> compiler.apply(ProfileResolver.resolve(k.profile().profile, k.caps(), arch, kernel, k.notified())));
    }

    /** The capabilities of {@code caps} that some rule of the profile names: all {@link ProfileResolver} looks at. */
    static Set<Capability> relevantCaps(SeccompProfile profile, Set<Capability> caps) {
        Set<Capability> out = EnumSet.noneOf(Capability.class);
        if (caps.isEmpty()) {
            return out;
        }
        for (SyscallRule r : profile.syscalls()) {
            for (RuleFilter f : new RuleFilter[] {r.includes(), r.excludes()}) {
                for (String c : f.caps()) {
                    Capability cap = Capability.parse(c);
                    if (caps.contains(cap)) {
                        out.add(cap);
                    }
                }
            }
        }
        return out;
    }

    /** How many programs are cached (tests). */
    int size() {
        return cache.size();
    }

    /** How many profile objects are known by identity (tests). */
    int profiles() {
        return byIdentity.size();
    }
}
