package dev.berth.core.internal.preflight;

import dev.berth.cgroups.Delegation;
import dev.berth.core.IdMapping;
import dev.berth.core.Preflight;
import dev.berth.core.Preflight.Check;
import dev.berth.core.Preflight.Section;
import dev.berth.core.Preflight.Status;
import dev.berth.core.SubordinateIds;
import dev.berth.core.UserNamespace;
import dev.berth.core.internal.RootlessStart;
import dev.berth.linux.internal.ProcStatus;
import dev.berth.network.CniDefaults;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.TreeSet;

/**
 * The preflight's checks, from {@link HostFacts}: pure decisions over what the host says, so that
 * every branch is unit-tested with the facts of another host. docs/preflight.md is their table.
 */
public final class PreflightChecks {
    static final Path PROC_STATUS = Path.of("/proc/self/status");
    static final Path OSRELEASE = Path.of("/proc/sys/kernel/osrelease");
    static final Path MOUNTINFO = Path.of("/proc/self/mountinfo");
    static final Path PROC = Path.of("/proc");
    static final Path CGROUP_ROOT = Path.of("/sys/fs/cgroup");
    static final Path MAX_USER_NAMESPACES = Path.of("/proc/sys/user/max_user_namespaces");
    static final Path UNPRIVILEGED_USERNS_CLONE = Path.of("/proc/sys/kernel/unprivileged_userns_clone");
    static final Path APPARMOR_RESTRICT_USERNS = Path.of("/proc/sys/kernel/apparmor_restrict_unprivileged_userns");
    static final Path SECCOMP_ACTIONS = Path.of("/proc/sys/kernel/seccomp/actions_avail");
    static final Path FILESYSTEMS = Path.of("/proc/filesystems");
    static final Path PASSWD = Path.of("/etc/passwd");
    /** The v2 controllers limits need (memory, pids, cpu); io and cpuset are used when present. */
    static final List<String> NEEDED_CONTROLLERS = List.of("cpu", "memory", "pids");
    static final long ROOTLESS_MIN_IDS = 65536;
    private static final Set<String> V1_CONTROLLERS = Set.of("cpu", "cpuacct", "cpuset", "memory", "blkio", "pids",
            "freezer", "devices", "hugetlb", "net_cls", "net_prio", "perf_event", "rdma", "misc");

    private final HostFacts f;
    private final Path storageRoot;
    private final Path subuid;
    private final Path subgid;
    private final long euid;
    private final String euidUnknown; // why euid is -1
    private final long egid;
    private final boolean root;
    private final String user;
    private final int[] kernel;

    private PreflightChecks(HostFacts f, Path storageRoot, Path subuid, Path subgid) {
        this.f = f;
        this.storageRoot = storageRoot;
        this.subuid = subuid;
        this.subgid = subgid;
        long id = -1;
        String unknown = null;
        try {
            id = ProcStatus.uids(f.read(PROC_STATUS).orElse("")).map(ProcStatus.Ids::effective).orElse(-1L);
            unknown = id < 0 ? "no Uid line in " + PROC_STATUS : null;
        } catch (IllegalArgumentException e) {
            unknown = PROC_STATUS + ": " + e.getMessage();
        }
        this.euid = id;
        this.euidUnknown = unknown;
        long gid = -1;
        try {
            gid = ProcStatus.gids(f.read(PROC_STATUS).orElse("")).map(ProcStatus.Ids::effective).orElse(-1L);
        } catch (IllegalArgumentException e) {
            // unknown: the auto check then names no mapping
        }
        this.egid = gid;
        this.root = euid == 0;
        this.user = userName(f.read(PASSWD).orElse(""), euid);
        this.kernel = kernelVersion(f.read(OSRELEASE).orElse("").strip());
    }

    public static Preflight.Report run(HostFacts facts, Path storageRoot, Path subuid, Path subgid) {
        PreflightChecks c = new PreflightChecks(facts, storageRoot, subuid, subgid);
        List<Check> out = new ArrayList<>();
        out.add(Check.ok(Preflight.ARCH, Section.HOST, facts.arch()));
        out.add(Check.ok(Preflight.JAVA, Section.HOST, facts.java()));
        out.add(c.kernel());
        out.addAll(c.cgroups());
        out.add(c.overlay());
        out.add(c.cniPlugins());
        out.add(c.rootlessNet(Preflight.PASTA, Preflight.SLIRP4NETNS));
        out.add(c.rootlessNet(Preflight.SLIRP4NETNS, Preflight.PASTA));
        out.add(c.rootless());
        out.add(c.userNamespaces());
        out.add(c.idmappedMounts());
        out.add(c.seccomp());
        out.add(c.subordinateIds());
        out.add(c.autoSubordinateIds());
        return new Preflight.Report(out, !c.root);
    }

    // ---- rootful or rootless ----

    private Check rootless() {
        if (euid < 0) {
            return Check.of(Preflight.ROOTLESS, Section.SECURITY, Status.UNKNOWN, euidUnknown, null);
        }
        return Check.ok(Preflight.ROOTLESS, Section.SECURITY, root ? "false (euid 0)"
                : "true (euid " + euid + (user != null ? ", user " + user : "") + ")");
    }

    static String userName(String passwd, long uid) {
        for (String line : passwd.split("\n")) {
            String[] f = line.split(":", -1);
            if (f.length >= 3 && f[2].equals(Long.toString(uid))) {
                return f[0];
            }
        }
        return null;
    }

    // ---- kernel ----

    /** {major, minor}, or {0, 0} when the release cannot be read. */
    static int[] kernelVersion(String release) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("^(\\d+)\\.(\\d+)").matcher(release);
        return m.find() ? new int[] {Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2))} : new int[] {0, 0};
    }

    private boolean kernelAtLeast(int major, int minor) {
        return kernel[0] > major || (kernel[0] == major && kernel[1] >= minor);
    }

    private Check kernel() {
        String release = f.read(OSRELEASE).orElse("").strip();
        if (kernel[0] == 0) {
            return Check.of(Preflight.KERNEL, Section.HOST, Status.UNKNOWN, "cannot read " + OSRELEASE, null);
        }
        if (!kernelAtLeast(5, 6)) {
            return Check.of(Preflight.KERNEL, Section.HOST, Status.MISSING, release
                    + ": Berth needs openat2 and pidfds (Linux 5.6)", "upgrade the kernel to Linux 5.12 or later");
        }
        if (!kernelAtLeast(5, 12)) {
            return Check.of(Preflight.KERNEL, Section.HOST, Status.WARNING, release
                    + ": bind-mount options and idmapped mounts need mount_setattr (Linux 5.12)",
                    "upgrade the kernel to Linux 5.12 or later");
        }
        return Check.ok(Preflight.KERNEL, Section.HOST, release);
    }

    // ---- cgroups ----

    /** One line of mountinfo: mount point, file system type, super options. */
    record MountLine(String mountPoint, String fsType, String superOptions) {
        static Optional<MountLine> parse(String line) {
            String[] f = line.split(" ");
            int sep = -1;
            for (int i = 6; i < f.length; i++) {
                if (f[i].equals("-")) {
                    sep = i;
                    break;
                }
            }
            if (f.length < 5 || sep < 0 || sep + 1 >= f.length) {
                return Optional.empty();
            }
            return Optional.of(new MountLine(f[4].replace("\\040", " "), f[sep + 1],
                    sep + 3 < f.length ? f[sep + 3] : ""));
        }
    }

    private List<Check> cgroups() {
        List<MountLine> mounts = new ArrayList<>();
        for (String line : f.read(MOUNTINFO).orElse("").split("\n")) {
            MountLine.parse(line).ifPresent(mounts::add);
        }
        Optional<String> v2 = mounts.stream().filter(m -> m.fsType().equals("cgroup2")).map(MountLine::mountPoint)
                .findFirst();
        Set<String> v1 = new TreeSet<>();
        for (MountLine m : mounts) {
            if (m.fsType().equals("cgroup")) {
                for (String o : m.superOptions().split(",")) {
                    if (V1_CONTROLLERS.contains(o)) {
                        v1.add(o);
                    }
                }
            }
        }
        List<String> v2Controllers = v2.map(p -> words(f.read(Path.of(p, "cgroup.controllers")).orElse("")))
                .orElse(List.of());
        Check version;
        String unifiedFix = "boot with systemd.unified_cgroup_hierarchy=1 (cgroup v2 everywhere; rootless limits need it)";
        if (v2.isPresent() && v1.isEmpty()) {
            List<String> lacking = NEEDED_CONTROLLERS.stream().filter(c -> !v2Controllers.contains(c)).toList();
            String found = "v2 unified at " + v2.get() + " (controllers: " + join(v2Controllers) + ")";
            version = lacking.isEmpty() ? Check.ok(Preflight.CGROUPS, Section.HOST, found)
                    : Check.of(Preflight.CGROUPS, Section.HOST, Status.WARNING, found + "; lacking " + join(lacking),
                    "enable the controllers " + join(lacking) + " in the kernel (limits of those kinds fail)");
        } else if (v2.isPresent()) {
            version = Check.of(Preflight.CGROUPS, Section.HOST, Status.WARNING, "hybrid: v1 controllers " + join(v1)
                    + "; v2 at " + v2.get() + " (controllers: " + join(v2Controllers) + ")", unifiedFix);
        } else if (!v1.isEmpty()) {
            version = Check.of(Preflight.CGROUPS, Section.HOST, Status.WARNING, "v1 (legacy): controllers " + join(v1),
                    unifiedFix);
        } else {
            version = Check.of(Preflight.CGROUPS, Section.HOST, Status.MISSING, "no cgroup file system mounted ("
                    + MOUNTINFO + ")", "mount cgroup2 at /sys/fs/cgroup (containers run without limits or stats)");
        }
        return List.of(version, delegation());
    }

    /** The runtime's own detection ({@link Delegation#detect}) over this host's facts: the same decision. */
    private Check delegation() {
        if (root) {
            return Check.ok(Preflight.CGROUP_DELEGATION, Section.HOST, "not needed (rootful)");
        }
        Delegation d = Delegation.detect(CGROUP_ROOT, PROC, euid, new Delegation.Host() {
            @Override
            public Optional<String> read(Path file) {
                return f.read(file);
            }

            @Override
            public OptionalLong owner(Path file) {
                return f.owner(file);
            }
        });
        if (!d.delegated()) {
            return Check.of(Preflight.CGROUP_DELEGATION, Section.HOST, Status.MISSING, "none found for uid " + euid
                    + " (" + d.finding() + ")", "run Berth in a systemd unit or scope with Delegate=yes (systemd-run"
                    + " --user --scope -p Delegate=yes java …; see " + Delegation.DOC + "); containers run without"
                    + " limits until then");
        }
        List<String> lacking = NEEDED_CONTROLLERS.stream().filter(c -> !d.controllers().contains(c)).toList();
        if (!lacking.isEmpty()) {
            return Check.of(Preflight.CGROUP_DELEGATION, Section.HOST, Status.WARNING, d.finding() + "; lacking "
                    + join(lacking), "delegate them: a drop-in for user@.service with Delegate="
                    + String.join(" ", NEEDED_CONTROLLERS) + " io cpuset, then log in again (see " + Delegation.DOC + ")");
        }
        return Check.ok(Preflight.CGROUP_DELEGATION, Section.HOST, d.finding());
    }

    // ---- overlay, CNI, rootless networking ----

    private Check overlay() {
        boolean loaded = f.read(FILESYSTEMS).orElse("").lines()
                .anyMatch(l -> l.strip().equals("overlay") || l.endsWith("\toverlay"));
        String release = f.read(OSRELEASE).orElse("").strip();
        boolean module = f.list(Path.of("/lib/modules", release, "kernel/fs/overlayfs")).stream()
                .anyMatch(n -> n.startsWith("overlay.ko"));
        if (!loaded && !module) {
            return Check.of(Preflight.OVERLAY, Section.HOST, Status.MISSING, "not in " + FILESYSTEMS
                    + " and no overlay module for " + release, "use a kernel with CONFIG_OVERLAY_FS (modprobe overlay)");
        }
        String found = loaded ? "in " + FILESYSTEMS : "as a module (loaded on first mount, or modprobe overlay)";
        if (!root && !kernelAtLeast(5, 11)) {
            return Check.of(Preflight.OVERLAY, Section.HOST, Status.WARNING, found
                    + "; an unprivileged user mounts overlay from Linux 5.11 on", "upgrade the kernel to 5.11 or later");
        }
        return Check.ok(Preflight.OVERLAY, Section.HOST, found);
    }

    private Check cniPlugins() {
        String missingFix = "install the CNI plugins (Debian: containernetworking-plugins)";
        Status absent = root ? Status.MISSING : Status.WARNING; // rootless networks use pasta or slirp4netns
        for (Path dir : CniDefaults.PLUGIN_DIRS) {
            List<String> names = f.list(dir);
            if (names.isEmpty()) {
                continue;
            }
            List<String> lacking = CniDefaults.PLUGINS.stream().filter(p -> !names.contains(p)).toList();
            if (lacking.isEmpty()) {
                return Check.ok(Preflight.CNI_PLUGINS, Section.HOST, dir + " (" + join(CniDefaults.PLUGINS) + ")");
            }
            return Check.of(Preflight.CNI_PLUGINS, Section.HOST, absent, dir + " lacks " + join(lacking)
                    + " (bridge networks need them)", missingFix);
        }
        return Check.of(Preflight.CNI_PLUGINS, Section.HOST, absent, "none in " + join(
                CniDefaults.PLUGIN_DIRS.stream().map(Path::toString).toList()) + " (bridge networks need them)",
                missingFix);
    }

    private Check rootlessNet(String name, String other) {
        Optional<Path> p = f.onPath(name);
        if (p.isPresent()) {
            return Check.ok(name, Section.HOST, p.get().toString());
        }
        if (root) {
            return Check.ok(name, Section.HOST, "not on PATH (only rootless networks use it)");
        }
        if (f.onPath(other).isPresent()) {
            return Check.ok(name, Section.HOST, "not on PATH (" + other + " is: rootless networks use it)");
        }
        return Check.of(name, Section.HOST, Status.MISSING, "neither " + name + " nor " + other + " on PATH"
                + " (rootless networks with published ports need one)", "install passt (pasta) or slirp4netns");
    }

    // ---- user namespaces, idmapped mounts, seccomp ----

    private Check userNamespaces() {
        Optional<String> max = f.read(MAX_USER_NAMESPACES).map(String::strip);
        if (max.isEmpty()) {
            return Check.of(Preflight.USER_NAMESPACES, Section.SECURITY, Status.MISSING, MAX_USER_NAMESPACES
                    + " is absent: the kernel has no user namespaces", "use a kernel with CONFIG_USER_NS");
        }
        long n;
        try {
            n = Long.parseLong(max.get());
        } catch (NumberFormatException e) {
            return Check.of(Preflight.USER_NAMESPACES, Section.SECURITY, Status.UNKNOWN, MAX_USER_NAMESPACES
                    + ": \"" + max.get() + "\" is not a number", null);
        }
        if (n <= 0) {
            return Check.of(Preflight.USER_NAMESPACES, Section.SECURITY, Status.MISSING,
                    "user.max_user_namespaces is " + n, "sysctl -w user.max_user_namespaces=15000");
        }
        String found = "max_user_namespaces " + n;
        Optional<String> clone = f.read(UNPRIVILEGED_USERNS_CLONE).map(String::strip);
        if (clone.isPresent()) {
            found += ", kernel.unprivileged_userns_clone " + clone.get();
            if (clone.get().equals("0") && !root) {
                return Check.of(Preflight.USER_NAMESPACES, Section.SECURITY, Status.MISSING, found
                        + ": unprivileged users cannot make one", "sysctl -w kernel.unprivileged_userns_clone=1");
            }
        }
        Optional<String> apparmor = f.read(APPARMOR_RESTRICT_USERNS).map(String::strip);
        if (apparmor.isPresent() && apparmor.get().equals("1") && !root) {
            return Check.of(Preflight.USER_NAMESPACES, Section.SECURITY, Status.WARNING, found
                    + ", kernel.apparmor_restrict_unprivileged_userns 1: AppArmor confines them",
                    "sysctl -w kernel.apparmor_restrict_unprivileged_userns=0, or an AppArmor profile with userns for java");
        }
        return Check.ok(Preflight.USER_NAMESPACES, Section.SECURITY, found);
    }

    private Check idmappedMounts() {
        if (kernel[0] != 0 && !kernelAtLeast(5, 12)) {
            return Check.of(Preflight.IDMAPPED_MOUNTS, Section.SECURITY, Status.MISSING, "the kernel has no"
                    + " mount_setattr (Linux 5.12)", "upgrade the kernel to Linux 5.12 or later");
        }
        Optional<Path> unshare = f.onPath("unshare");
        if (unshare.isEmpty()) {
            return Check.of(Preflight.IDMAPPED_MOUNTS, Section.SECURITY, Status.UNKNOWN, "no unshare (util-linux) on"
                    + " PATH to hold a user namespace for the probe", "install util-linux");
        }
        HostFacts.Probe p = f.probeIdmap(storageRoot, unshare.get(), root);
        return Check.of(Preflight.IDMAPPED_MOUNTS, Section.SECURITY, p.status(), p.found(), p.fix());
    }

    private Check seccomp() {
        Optional<String> actions = f.read(SECCOMP_ACTIONS).map(String::strip);
        if (actions.isEmpty()) {
            return Check.of(Preflight.SECCOMP, Section.SECURITY, Status.MISSING, SECCOMP_ACTIONS
                    + " is absent: no seccomp filters", "use a kernel with CONFIG_SECCOMP_FILTER");
        }
        List<String> a = words(actions.get());
        String found = "actions: " + join(a);
        if (!a.contains("user_notif")) {
            return Check.of(Preflight.SECCOMP, Section.SECURITY, Status.WARNING, found
                    + "; no user_notif (SeccompListener)", "upgrade the kernel to Linux 5.0 or later");
        }
        return Check.ok(Preflight.SECCOMP, Section.SECURITY, found);
    }

    // ---- subordinate ids ----

    /** A file's ranges, or the one-line error of a file that cannot be read. */
    private Object subordinate(Path file) {
        try {
            return SubordinateIds.parse(file, f.read(file).orElse(""));
        } catch (IllegalArgumentException e) {
            return e.getMessage();
        }
    }

    private Check subordinateIds() {
        Object uids = subordinate(subuid);
        Object gids = subordinate(subgid);
        String name = user != null ? user : Long.toString(euid);
        String fix = "usermod --add-subuids 100000-165535 --add-subgids 100000-165535 " + name;
        if (uids instanceof String e) {
            return Check.of(Preflight.SUBORDINATE_IDS, Section.SECURITY, Status.MISSING, e, "fix the line in " + subuid);
        }
        if (gids instanceof String e) {
            return Check.of(Preflight.SUBORDINATE_IDS, Section.SECURITY, Status.MISSING, e, "fix the line in " + subgid);
        }
        List<SubordinateIds.Range> u = ((SubordinateIds) uids).rangesOf(user, euid);
        List<SubordinateIds.Range> g = ((SubordinateIds) gids).rangesOf(user, euid);
        String found = name + ": " + describe(subuid, u) + "; " + describe(subgid, g);
        if (root) {
            return Check.ok(Preflight.SUBORDINATE_IDS, Section.SECURITY, found + " (not needed rootful)");
        }
        if (u.isEmpty() || g.isEmpty()) {
            return Check.of(Preflight.SUBORDINATE_IDS, Section.SECURITY, Status.MISSING, found
                    + ": containers get a single-id mapping", fix);
        }
        long fewest = Math.min(count(u), count(g));
        if (fewest < ROOTLESS_MIN_IDS) {
            return Check.of(Preflight.SUBORDINATE_IDS, Section.SECURITY, Status.WARNING, found + ": " + fewest
                    + " ids, images with higher ids fail", fix);
        }
        if (f.onPath("newuidmap").isEmpty() || f.onPath("newgidmap").isEmpty()) {
            return Check.of(Preflight.SUBORDINATE_IDS, Section.SECURITY, Status.WARNING, found
                    + "; newuidmap/newgidmap not on PATH to use them", "install uidmap (newuidmap, newgidmap)");
        }
        return Check.ok(Preflight.SUBORDINATE_IDS, Section.SECURITY, found);
    }

    private Check autoSubordinateIds() {
        Object uids = subordinate(subuid);
        Object gids = subordinate(subgid);
        if (uids instanceof String e) {
            return Check.of(Preflight.AUTO_SUBORDINATE_IDS, Section.SECURITY, Status.MISSING, e,
                    "fix the line in " + subuid);
        }
        if (gids instanceof String e) {
            return Check.of(Preflight.AUTO_SUBORDINATE_IDS, Section.SECURITY, Status.MISSING, e,
                    "fix the line in " + subgid);
        }
        String owner = UserNamespace.AUTO_OWNER;
        List<SubordinateIds.Range> u = ((SubordinateIds) uids).rangesOf(owner);
        List<SubordinateIds.Range> g = ((SubordinateIds) gids).rangesOf(owner);
        String found = owner + ": " + describe(subuid, u) + "; " + describe(subgid, g);
        if (!root) {
            // RootlessStart.resolve: rootless, auto is the default mapping, never a range of these
            return Check.ok(Preflight.AUTO_SUBORDINATE_IDS, Section.SECURITY, found + " (not used rootless:"
                    + " --userns=auto gives each container the user's own mapping, as the default does"
                    + ownMapping((SubordinateIds) uids, (SubordinateIds) gids) + ")");
        }
        if (u.isEmpty() || g.isEmpty()) {
            return Check.of(Preflight.AUTO_SUBORDINATE_IDS, Section.SECURITY, Status.WARNING, found
                    + ": --userns=auto has no ids to allocate", "add the line \"" + owner + ":2147483647:2147483648\" to "
                    + (u.isEmpty() ? subuid : "") + (u.isEmpty() && g.isEmpty() ? " and " : "") + (g.isEmpty() ? subgid : "")
                    + " (podman's recommendation)");
        }
        return Check.ok(Preflight.AUTO_SUBORDINATE_IDS, Section.SECURITY, found + " (rootful --userns=auto gives each"
                + " container a range of its own from them)");
    }

    /**
     * {@code ": uid map 0:1000:1 1:100000:65536, gid map …"}: the mapping a rootless container gets
     * ({@link RootlessStart#defaultMapping()}); empty when this process's ids are unknown.
     */
    private String ownMapping(SubordinateIds uids, SubordinateIds gids) {
        if (euid < 0 || egid < 0) {
            return "";
        }
        UserNamespace ns = new RootlessStart(euid, egid, user, uids, gids).defaultMapping();
        return ": uid map " + mapping(ns.uidMap()) + ", gid map " + mapping(ns.gidMap());
    }

    private static String mapping(List<IdMapping> lines) {
        return String.join(" ", lines.stream().map(IdMapping::toString).toList());
    }

    private static String describe(Path file, List<SubordinateIds.Range> ranges) {
        if (ranges.isEmpty()) {
            return "none in " + file;
        }
        StringBuilder b = new StringBuilder();
        for (SubordinateIds.Range r : ranges) {
            b.append(b.length() == 0 ? "" : ", ").append(r.start()).append('-').append(r.end());
        }
        return b + " in " + file;
    }

    private static long count(List<SubordinateIds.Range> ranges) {
        return ranges.stream().mapToLong(SubordinateIds.Range::count).sum();
    }

    private static List<String> words(String s) {
        List<String> out = new ArrayList<>();
        for (String w : s.strip().split("\\s+")) {
            if (!w.isEmpty()) {
                out.add(w);
            }
        }
        return out;
    }

    private static String join(java.util.Collection<String> words) {
        return words.isEmpty() ? "none" : String.join(" ", words);
    }

    /** For tests: nothing but the checks' names and statuses. */
    static Map<String, Status> statuses(Preflight.Report r) {
        Map<String, Status> out = new LinkedHashMap<>();
        r.checks().forEach(c -> out.put(c.name(), c.status()));
        return out;
    }
}
