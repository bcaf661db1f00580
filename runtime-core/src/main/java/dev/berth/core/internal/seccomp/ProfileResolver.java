package dev.berth.core.internal.seccomp;

import dev.berth.core.Capability;
import dev.berth.linux.internal.Arch;
import dev.berth.linux.internal.LinuxConstants;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Selects a profile's rules for one container, as Docker's and podman's profile loaders do:
 * {@code includes} needs every capability it lists granted, the host's architecture among its
 * arches and the kernel at least its minKernel; {@code excludes} drops a rule when any listed
 * capability is granted, or the host's architecture is listed, or the kernel is at least its
 * minKernel. Rules whose args repeat an index become one rule per arg (libseccomp ANDs the
 * conditions of a rule, and cannot AND two on one argument), as runc does.
 */
public final class ProfileResolver {

    /** The kernel's SECCOMP_FILTER_FLAG_* values. */
    private static final Map<String, Long> FLAG_BITS = Map.of("SECCOMP_FILTER_FLAG_TSYNC", 1L,
            "SECCOMP_FILTER_FLAG_LOG", 2L, "SECCOMP_FILTER_FLAG_SPEC_ALLOW", 4L,
            "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV", 32L);

    private ProfileResolver() {}

    /**
     * @param caps   the container's capability set
     * @param arch   the host's architecture
     * @param kernel the host's kernel release ({@code uname -r}, {@code os.version})
     */
    public static ResolvedFilter resolve(SeccompProfile p, Set<Capability> caps, Arch arch, String kernel) {
        return resolve(p, caps, arch, kernel, Set.of());
    }

    /**
     * @param notified syscalls handed to a listener ({@code SCMP_ACT_NOTIFY}) instead of what the profile says
     *                 about them; the filter then gets {@code SECCOMP_FILTER_FLAG_NEW_LISTENER}
     */
    public static ResolvedFilter resolve(SeccompProfile p, Set<Capability> caps, Arch arch, String kernel,
            Set<String> notified) {
        int defErrno = p.defaultErrnoRet() != null ? p.defaultErrnoRet() : SeccompAction.DEFAULT_ERRNO;
        int def = p.defaultAction().value(defErrno);
        List<ResolvedFilter.Rule> rules = new ArrayList<>();
        for (SyscallRule r : p.syscalls()) {
            if (!included(r.includes(), caps, arch, kernel) || excluded(r.excludes(), caps, arch, kernel)) {
                continue;
            }
            int action = r.action().value(r.errnoRet() != null ? r.errnoRet() : SeccompAction.DEFAULT_ERRNO);
            if (action == def) {
                continue; // libseccomp refuses a rule that says what the default says
            }
            for (List<ArgCondition> args : splitSameIndex(r.args())) {
                for (String name : r.names()) {
                    if (!notified.contains(name)) {
                        rules.add(new ResolvedFilter.Rule(name, action, args));
                    }
                }
            }
        }
        for (String name : notified) {
            rules.add(new ResolvedFilter.Rule(name, SeccompAction.SCMP_ACT_NOTIFY.value(0), List.of()));
        }
        long flags = 0;
        for (String f : p.flags()) {
            flags |= FLAG_BITS.get(f);
        }
        // TSYNC: the init is single-threaded when it loads the filter, and with a listener the
        // kernel refuses the two together; it means nothing here
        flags &= ~FLAG_BITS.get("SECCOMP_FILTER_FLAG_TSYNC");
        if (!notified.isEmpty()) {
            flags |= LinuxConstants.SECCOMP_FILTER_FLAG_NEW_LISTENER;
        }
        return new ResolvedFilter(p.name(), def, arches(p, arch), rules, flags);
    }

    /** The architectures the filter knows: the native one, the archMap's for it, and the listed ones. */
    static List<String> arches(SeccompProfile p, Arch arch) {
        Set<String> out = new LinkedHashSet<>();
        String nativeName = scmpName(arch);
        out.add(libseccompName(nativeName));
        List<String> subs = p.archMap().get(nativeName);
        if (subs != null) {
            subs.forEach(s -> out.add(libseccompName(s)));
        }
        p.architectures().forEach(a -> out.add(libseccompName(a)));
        return List.copyOf(out);
    }

    static String scmpName(Arch arch) {
        return switch (arch) {
            case X86_64 -> "SCMP_ARCH_X86_64";
            case AARCH64 -> "SCMP_ARCH_AARCH64";
        };
    }

    /** {@code SCMP_ARCH_X86_64} is {@code x86_64} to {@code seccomp_arch_resolve_name}. */
    static String libseccompName(String scmp) {
        return scmp.substring("SCMP_ARCH_".length()).toLowerCase(Locale.ROOT);
    }

    /** Docker's includes/excludes name arches as Go does ({@code amd64}); SCMP names and uname's are accepted too. */
    private static boolean archListed(List<String> arches, Arch arch) {
        for (String a : arches) {
            String n = a.toLowerCase(Locale.ROOT);
            boolean match = switch (arch) {
                case X86_64 -> n.equals("amd64") || n.equals("x86_64") || n.equals("scmp_arch_x86_64");
                case AARCH64 -> n.equals("arm64") || n.equals("aarch64") || n.equals("scmp_arch_aarch64");
            };
            if (match) {
                return true;
            }
        }
        return false;
    }

    private static boolean included(RuleFilter f, Set<Capability> caps, Arch arch, String kernel) {
        for (String c : f.caps()) {
            if (!caps.contains(Capability.parse(c))) {
                return false;
            }
        }
        if (!f.arches().isEmpty() && !archListed(f.arches(), arch)) {
            return false;
        }
        return f.minKernel() == null || compareKernel(kernel, f.minKernel()) >= 0;
    }

    private static boolean excluded(RuleFilter f, Set<Capability> caps, Arch arch, String kernel) {
        for (String c : f.caps()) {
            if (caps.contains(Capability.parse(c))) {
                return true;
            }
        }
        if (archListed(f.arches(), arch)) {
            return true;
        }
        return f.minKernel() != null && compareKernel(kernel, f.minKernel()) >= 0;
    }

    /** Compares the leading numbers of two releases: {@code 6.1.0-18-amd64} against {@code 4.8}. */
    static int compareKernel(String release, String min) {
        String[] a = release.split("[^0-9]+");
        String[] b = min.split("\\.");
        for (int i = 0; i < b.length; i++) {
            long x = i < a.length && !a[i].isEmpty() ? Long.parseLong(a[i]) : 0;
            long y = Long.parseLong(b[i]);
            if (x != y) {
                return Long.compare(x, y);
            }
        }
        return 0;
    }

    /** One condition list, or one list per condition when two of them test the same argument. */
    static List<List<ArgCondition>> splitSameIndex(List<ArgCondition> args) {
        Map<Integer, Integer> seen = new HashMap<>();
        boolean repeated = false;
        for (ArgCondition a : args) {
            repeated |= seen.merge(a.index(), 1, Integer::sum) > 1;
        }
        if (!repeated) {
            return List.of(args);
        }
        return args.stream().map(List::of).toList();
    }
}
