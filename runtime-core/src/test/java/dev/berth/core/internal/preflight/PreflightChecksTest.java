package dev.berth.core.internal.preflight;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.core.Preflight;
import dev.berth.core.Preflight.Check;
import dev.berth.core.Preflight.Section;
import dev.berth.core.Preflight.Status;
import dev.berth.core.SubordinateIds;
import dev.berth.core.UserNamespace;
import dev.berth.core.internal.RootlessStart;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import org.junit.jupiter.api.Test;

class PreflightChecksTest {

    static final Path SUBUID = Path.of("/etc/subuid");
    static final Path SUBGID = Path.of("/etc/subgid");
    static final Path STORAGE = Path.of("/var/lib/berth");

    /** A host told by maps: files, writable paths, PATH, directories, and the probe's answer. */
    static final class FakeHost implements HostFacts {
        final Map<Path, String> files = new HashMap<>();
        final Set<Path> writable = new HashSet<>();
        final Map<Path, Long> owners = new HashMap<>();
        final Map<String, Path> path = new HashMap<>();
        final Map<Path, List<String>> dirs = new HashMap<>();
        HostFacts.Probe probe = new HostFacts.Probe(Status.OK, "works on ext4 (/var/lib/berth)", null);
        final List<String> probes = new ArrayList<>();

        FakeHost file(String p, String text) {
            files.put(Path.of(p), text);
            return this;
        }

        @Override
        public Optional<String> read(Path file) {
            return Optional.ofNullable(files.get(file));
        }

        @Override
        public boolean exists(Path p) {
            return files.containsKey(p) || dirs.containsKey(p);
        }

        @Override
        public boolean isWritable(Path p) {
            return writable.contains(p);
        }

        @Override
        public OptionalLong owner(Path p) {
            Long o = owners.get(p);
            return o != null ? OptionalLong.of(o) : exists(p) ? OptionalLong.of(0) : OptionalLong.empty();
        }

        @Override
        public Optional<Path> onPath(String name) {
            return Optional.ofNullable(path.get(name));
        }

        @Override
        public List<String> list(Path dir) {
            return dirs.getOrDefault(dir, List.of());
        }

        @Override
        public String arch() {
            return "amd64";
        }

        @Override
        public String java() {
            return "17.0.9 (Debian)";
        }

        @Override
        public HostFacts.Probe probeIdmap(Path storageRoot, Path unshare, boolean root) {
            probes.add(storageRoot + " " + unshare + " " + root);
            return probe;
        }
    }

    /** This project's machines: root, Linux 6.18, hybrid cgroups (v1 controllers, v2 with hugetlb alone). */
    static FakeHost hybridRootHost() {
        FakeHost h = new FakeHost()
                .file("/proc/self/status", "Name:\tjava\nUid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\n")
                .file("/etc/passwd", "root:x:0:0:root:/root:/bin/bash\nalice:x:1000:1000::/home/alice:/bin/sh\n")
                .file("/proc/sys/kernel/osrelease", "6.18.44-fc-v1045\n")
                .file("/proc/self/mountinfo", String.join("\n",
                        "30 22 0:27 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755",
                        "31 30 0:28 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu",
                        "32 30 0:29 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory",
                        "33 30 0:30 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids",
                        "34 30 0:31 / /sys/fs/cgroup/systemd rw - cgroup cgroup rw,xattr,name=systemd",
                        "35 30 0:32 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw",
                        "") )
                .file("/sys/fs/cgroup/unified/cgroup.controllers", "hugetlb\n")
                .file("/proc/self/cgroup", "4:memory:/process_api/x\n0::/\n")
                .file("/proc/sys/user/max_user_namespaces", "96362\n")
                .file("/proc/sys/kernel/seccomp/actions_avail", "kill_process kill_thread trap errno user_notif trace log allow\n")
                .file("/proc/filesystems", "nodev\tsysfs\nnodev\toverlay\n\text4\n");
        h.path.put("unshare", Path.of("/usr/bin/unshare"));
        h.dirs.put(Path.of("/usr/lib/cni"), List.of("bandwidth", "bridge", "firewall", "host-local", "portmap"));
        return h;
    }

    /** A pure cgroup v2 host, user alice (1000) in a systemd scope. */
    static FakeHost unifiedUserHost(boolean delegated) {
        FakeHost h = hybridRootHost()
                .file("/proc/self/status", "Uid:\t1000\t1000\t1000\t1000\nGid:\t1000\t1000\t1000\t1000\n")
                .file("/proc/self/mountinfo", "35 22 0:32 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw,nsdelegate\n")
                .file("/sys/fs/cgroup/cgroup.controllers", "cpuset cpu io memory hugetlb pids rdma misc\n")
                .file("/proc/self/cgroup", "0::/user.slice/user-1000.slice/user@1000.service/app.slice/berth.scope\n")
                .file(SCOPE + "/cgroup.controllers", "cpu io memory pids\n")
                .file(SCOPE + "/cgroup.subtree_control", "\n")
                .file("/etc/subuid", "alice:100000:65536\n")
                .file("/etc/subgid", "alice:100000:65536\n");
        h.path.put("pasta", Path.of("/usr/bin/pasta"));
        h.path.put("newuidmap", Path.of("/usr/bin/newuidmap"));
        h.path.put("newgidmap", Path.of("/usr/bin/newgidmap"));
        for (String f : new String[] {"", "/cgroup.procs", "/cgroup.subtree_control", "/cgroup.threads"}) {
            h.owners.put(Path.of(SCOPE + f), delegated ? 1000L : 0L); // systemd's Delegate=yes chowns these
        }
        return h;
    }

    static final String SCOPE = "/sys/fs/cgroup/user.slice/user-1000.slice/user@1000.service/app.slice/berth.scope";

    static Preflight.Report run(FakeHost h) {
        return PreflightChecks.run(h, STORAGE, SUBUID, SUBGID);
    }

    static Check check(Preflight.Report r, String name) {
        return r.check(name).orElseThrow();
    }

    @Test
    void aHybridHostAsRootAsThisProjectsMachines() {
        FakeHost h = hybridRootHost();
        Preflight.Report r = run(h);
        assertThat(r.rootless()).isFalse();
        assertThat(r.checks()).extracting(Check::name).containsExactly("arch", "java", "kernel", "cgroupVersion",
                "cgroupDelegation", "overlay", "cniPlugins", "pasta", "slirp4netns", "rootless", "userNamespaces",
                "idmappedMounts", "seccomp", "subordinateIds", "autoSubordinateIds");
        assertThat(r.section(Section.SECURITY)).extracting(Check::name).startsWith("rootless");
        assertThat(check(r, "rootless").found()).isEqualTo("false (euid 0)");
        assertThat(check(r, "kernel")).isEqualTo(Check.ok("kernel", Section.HOST, "6.18.44-fc-v1045"));
        Check cg = check(r, "cgroupVersion");
        assertThat(cg.status()).isEqualTo(Status.WARNING);
        assertThat(cg.found()).isEqualTo("hybrid: v1 controllers cpu memory pids; v2 at /sys/fs/cgroup/unified"
                + " (controllers: hugetlb)");
        assertThat(cg.fix()).hasValueSatisfying(f -> assertThat(f).startsWith("boot with systemd.unified_cgroup_hierarchy=1"));
        assertThat(check(r, "cgroupDelegation").found()).isEqualTo("not needed (rootful)");
        assertThat(check(r, "overlay").found()).isEqualTo("in /proc/filesystems");
        assertThat(check(r, "cniPlugins")).isEqualTo(Check.ok("cniPlugins", Section.HOST,
                "/usr/lib/cni (bridge host-local portmap firewall)"));
        assertThat(check(r, "pasta").status()).isEqualTo(Status.OK);
        assertThat(check(r, "userNamespaces").found()).isEqualTo("max_user_namespaces 96362");
        assertThat(check(r, "idmappedMounts").status()).isEqualTo(Status.OK);
        assertThat(h.probes).containsExactly("/var/lib/berth /usr/bin/unshare true");
        assertThat(check(r, "seccomp").status()).isEqualTo(Status.OK);
        assertThat(check(r, "subordinateIds").found()).isEqualTo("root: none in /etc/subuid; none in /etc/subgid"
                + " (not needed rootful)");
        Check auto = check(r, "autoSubordinateIds");
        assertThat(auto.status()).isEqualTo(Status.WARNING);
        assertThat(auto.fix().orElse("")).contains("add the line \"containers:2147483647:2147483648\" to /etc/subuid and"
                + " /etc/subgid (podman's recommendation)");
        assertThat(r.problems()).extracting(Check::name).containsExactly("cgroupVersion", "autoSubordinateIds");
        assertThatThrownBy(() -> r.checks().add(cg)).isInstanceOf(UnsupportedOperationException.class);
    }

    @Test
    void aPureV2HostWithADelegatedSubtree() {
        Preflight.Report r = run(unifiedUserHost(true));
        assertThat(r.rootless()).isTrue();
        assertThat(check(r, "rootless").found()).isEqualTo("true (euid 1000, user alice)");
        assertThat(check(r, "cgroupVersion")).isEqualTo(Check.ok("cgroupVersion", Section.HOST,
                "v2 unified at /sys/fs/cgroup (controllers: cpuset cpu io memory hugetlb pids rdma misc)"));
        assertThat(check(r, "cgroupDelegation")).isEqualTo(Check.ok("cgroupDelegation", Section.HOST,
                SCOPE + " (controllers: cpu io memory pids)"));
        assertThat(check(r, "subordinateIds")).isEqualTo(Check.ok("subordinateIds", Section.SECURITY,
                "alice: 100000-165535 in /etc/subuid; 100000-165535 in /etc/subgid"));
        assertThat(check(r, "slirp4netns").found()).isEqualTo("not on PATH (pasta is: rootless networks use it)");
        assertThat(check(r, "autoSubordinateIds").found()).isEqualTo("containers: none in /etc/subuid; none in"
                + " /etc/subgid (not used rootless: --userns=auto gives each container the user's own mapping, as the"
                + " default does: uid map 0:1000:1 1:100000:65536, gid map 0:1000:1 1:100000:65536)");
        assertThat(r.problems()).isEmpty();
    }

    @Test
    void aPureV2HostWithoutDelegation() {
        Check d = check(run(unifiedUserHost(false)), "cgroupDelegation");
        assertThat(d.status()).isEqualTo(Status.MISSING);
        assertThat(d.found()).isEqualTo("none found for uid 1000 (" + SCOPE + " is owned by uid 0, not 1000: the JVM's"
                + " cgroup is not delegated to this user)");
        assertThat(d.fix()).hasValueSatisfying(f -> assertThat(f).contains("Delegate=yes"));
    }

    @Test
    void aDelegationWithoutTheMemoryController() {
        FakeHost h = unifiedUserHost(true).file(SCOPE + "/cgroup.controllers", "cpu pids\n");
        Check d = check(run(h), "cgroupDelegation");
        assertThat(d.status()).isEqualTo(Status.WARNING);
        assertThat(d.found()).endsWith("lacking memory");
        assertThat(d.fix()).hasValueSatisfying(f -> assertThat(f).contains("Delegate=cpu memory pids io cpuset"));
    }

    @Test
    void onlyTheThreeFilesSystemdChownsAndTheDirectoryMakeADelegation() {
        FakeHost h = unifiedUserHost(true);
        h.owners.put(Path.of(SCOPE + "/cgroup.threads"), 0L);
        Check d = check(run(h), "cgroupDelegation");
        assertThat(d.status()).isEqualTo(Status.MISSING);
        assertThat(d.found()).isEqualTo("none found for uid 1000 (" + SCOPE + "/cgroup.threads is owned by uid 0, not"
                + " 1000: the JVM's cgroup is not delegated to this user)");
        assertThat(d.fix()).hasValueSatisfying(f -> assertThat(f).contains("systemd-run --user --scope -p Delegate=yes")
                .contains("docs/rootless.md"));
    }

    @Test
    void aRootlessUserOfAHybridHostHasNoDelegation() {
        FakeHost h = hybridRootHost().file("/proc/self/status", "Uid:\t1000\t1000\t1000\t1000\n");
        Check d = check(run(h), "cgroupDelegation");
        assertThat(d.status()).isEqualTo(Status.MISSING);
        assertThat(d.found()).isEqualTo("none found for uid 1000 (hybrid host: controllers cpu memory pids are cgroup v1,"
                + " which is not delegated to users; the cgroup v2 hierarchy at /sys/fs/cgroup/unified has controllers hugetlb)");
    }

    @Test
    void legacyAndNoCgroups() {
        FakeHost legacy = hybridRootHost().file("/proc/self/mountinfo",
                "31 30 0:28 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct\n");
        assertThat(check(run(legacy), "cgroupVersion").found()).isEqualTo("v1 (legacy): controllers cpu cpuacct");
        FakeHost none = hybridRootHost().file("/proc/self/mountinfo", "garbage\n\n1 2 3\n");
        Check c = check(run(none), "cgroupVersion");
        assertThat(c.status()).isEqualTo(Status.MISSING);
        assertThat(c.fix()).hasValueSatisfying(f -> assertThat(f).startsWith("mount cgroup2 at /sys/fs/cgroup"));
    }

    @Test
    void noSubuidFileForARootlessUser() {
        FakeHost h = unifiedUserHost(true);
        h.files.remove(SUBUID);
        h.files.remove(SUBGID);
        Check s = check(run(h), "subordinateIds");
        assertThat(s.status()).isEqualTo(Status.MISSING);
        assertThat(s.found()).isEqualTo("alice: none in /etc/subuid; none in /etc/subgid: containers get a single-id mapping");
        assertThat(s.fix().orElse("")).contains("usermod --add-subuids 100000-165535 --add-subgids 100000-165535 alice");
    }

    @Test
    void fewSubordinateIdsOrNoNewuidmapAreWarnings() {
        FakeHost few = unifiedUserHost(true).file("/etc/subgid", "1000:100000:1000\n"); // by uid, as newgidmap reads it
        Check s = check(run(few), "subordinateIds");
        assertThat(s.status()).isEqualTo(Status.WARNING);
        assertThat(s.found()).contains("100000-100999 in /etc/subgid: 1000 ids, images with higher ids fail");
        FakeHost noTool = unifiedUserHost(true);
        noTool.path.remove("newuidmap");
        assertThat(check(run(noTool), "subordinateIds").fix().orElse("")).contains("install uidmap (newuidmap, newgidmap)");
    }

    @Test
    void aMalformedSubuidLineIsNamedByFileAndLine() {
        FakeHost h = hybridRootHost().file("/etc/subuid", "containers:1:2\nbroken line\n");
        Check s = check(run(h), "subordinateIds");
        assertThat(s.status()).isEqualTo(Status.MISSING);
        assertThat(s.found()).isEqualTo("/etc/subuid line 2: \"broken line\": expected NAME:START:COUNT");
        assertThat(check(run(h), "autoSubordinateIds").status()).isEqualTo(Status.MISSING);
    }

    @Test
    void autoRangesOfContainers() {
        FakeHost h = hybridRootHost().file("/etc/subuid", "containers:2147483647:2147483648\n")
                .file("/etc/subgid", "containers:2147483647:2147483648\n");
        assertThat(check(run(h), "autoSubordinateIds")).isEqualTo(Check.ok("autoSubordinateIds", Section.SECURITY,
                "containers: 2147483647-4294967294 in /etc/subuid; 2147483647-4294967294 in /etc/subgid (rootful"
                        + " --userns=auto gives each container a range of its own from them)"));
        h.files.remove(SUBGID);
        assertThat(check(run(h), "autoSubordinateIds").fix().orElse("")).contains("to /etc/subgid (podman");
    }

    /** Rootless, auto is the default mapping (RootlessStart.resolve): the ranges of containers are not used. */
    @Test
    void rootlessAutoIsTheUsersOwnMappingWhateverContainersHas() {
        FakeHost h = unifiedUserHost(true).file("/proc/self/status", "Uid:\t1000\t1000\t1000\t1000\n"
                + "Gid:\t1001\t1001\t1001\t1001\n")
                .file("/etc/subuid", "containers:2147483647:2147483648\nalice:100000:65536\n1000:300000:10\n")
                .file("/etc/subgid", "containers:2147483647:2147483648\n1000:200000:4096\n");
        Check auto = check(run(h), "autoSubordinateIds");
        assertThat(auto).as("ok: nothing to add for rootless auto").isEqualTo(Check.ok("autoSubordinateIds",
                Section.SECURITY, "containers: 2147483647-4294967294 in /etc/subuid; 2147483647-4294967294 in"
                        + " /etc/subgid (not used rootless: --userns=auto gives each container the user's own mapping, as"
                        + " the default does: uid map 0:1000:1 1:100000:65536, gid map 0:1001:1 1:200000:4096)"));
        UserNamespace resolved = new RootlessStart(1000, 1001, "alice", SubordinateIds.parse(SUBUID,
                h.files.get(SUBUID)), SubordinateIds.parse(SUBGID, h.files.get(SUBGID))).defaultMapping();
        assertThat(auto.found()).as("the mapping a start gives").contains("uid map " + resolved.uidMap().get(0) + " "
                + resolved.uidMap().get(1) + ", gid map " + resolved.gidMap().get(0) + " " + resolved.gidMap().get(1));
        h.files.remove(SUBUID);
        h.files.remove(SUBGID);
        assertThat(check(run(h), "autoSubordinateIds").found()).as("no subordinate ids: the single id").endsWith(
                "as the default does: uid map 0:1000:1, gid map 0:1001:1)");
        h.file("/proc/self/status", "Uid:\t1000\t1000\t1000\t1000\n");
        assertThat(check(run(h), "autoSubordinateIds").found()).as("no Gid line: no mapping to show").endsWith(
                "(not used rootless: --userns=auto gives each container the user's own mapping, as the default does)");
    }

    @Test
    void userNamespacesOffOrRestricted() {
        assertThat(check(run(hybridRootHost().file("/proc/sys/user/max_user_namespaces", "0\n")), "userNamespaces"))
                .isEqualTo(Check.of("userNamespaces", Section.SECURITY, Status.MISSING, "user.max_user_namespaces is 0",
                        "sysctl -w user.max_user_namespaces=15000"));
        FakeHost absent = hybridRootHost();
        absent.files.remove(Path.of("/proc/sys/user/max_user_namespaces"));
        assertThat(check(run(absent), "userNamespaces").fix().orElse("")).contains("CONFIG_USER_NS");
        // Debian's switch: root may still make them, an ordinary user may not
        FakeHost debian = hybridRootHost().file("/proc/sys/kernel/unprivileged_userns_clone", "0\n");
        assertThat(check(run(debian), "userNamespaces").status()).isEqualTo(Status.OK);
        debian.file("/proc/self/status", "Uid:\t1000\t1000\t1000\t1000\n");
        Check c = check(run(debian), "userNamespaces");
        assertThat(c.status()).isEqualTo(Status.MISSING);
        assertThat(c.fix().orElse("")).contains("sysctl -w kernel.unprivileged_userns_clone=1");
        FakeHost ubuntu = unifiedUserHost(true).file("/proc/sys/kernel/apparmor_restrict_unprivileged_userns", "1\n");
        assertThat(check(run(ubuntu), "userNamespaces").status()).isEqualTo(Status.WARNING);
    }

    @Test
    void seccompWithoutUserNotificationOrAtAll() {
        Check w = check(run(hybridRootHost().file("/proc/sys/kernel/seccomp/actions_avail", "kill errno allow\n")),
                "seccomp");
        assertThat(w.status()).isEqualTo(Status.WARNING);
        assertThat(w.found()).isEqualTo("actions: kill errno allow; no user_notif (SeccompListener)");
        FakeHost none = hybridRootHost();
        none.files.remove(Path.of("/proc/sys/kernel/seccomp/actions_avail"));
        assertThat(check(run(none), "seccomp").status()).isEqualTo(Status.MISSING);
    }

    @Test
    void anOldKernelIsNotProbed() {
        FakeHost h = hybridRootHost().file("/proc/sys/kernel/osrelease", "5.4.0-150-generic\n");
        Preflight.Report r = run(h);
        assertThat(check(r, "kernel").status()).isEqualTo(Status.MISSING);
        assertThat(check(r, "idmappedMounts").status()).isEqualTo(Status.MISSING);
        assertThat(h.probes).isEmpty();
        assertThat(check(run(hybridRootHost().file("/proc/sys/kernel/osrelease", "5.10.0\n")), "kernel").status())
                .isEqualTo(Status.WARNING);
        assertThat(check(run(hybridRootHost().file("/proc/sys/kernel/osrelease", "junk\n")), "kernel").status())
                .isEqualTo(Status.UNKNOWN);
    }

    @Test
    void withoutUnshareTheIdmapProbeIsUnknownWithTheReason() {
        FakeHost h = hybridRootHost();
        h.path.remove("unshare");
        Check c = check(run(h), "idmappedMounts");
        assertThat(c).isEqualTo(Check.of("idmappedMounts", Section.SECURITY, Status.UNKNOWN,
                "no unshare (util-linux) on PATH to hold a user namespace for the probe", "install util-linux"));
        assertThat(h.probes).isEmpty();
        h.path.put("unshare", Path.of("/bin/unshare"));
        h.probe = new HostFacts.Probe(Status.MISSING, "mount_setattr: EINVAL", "put the storage root on ext4");
        assertThat(check(run(h), "idmappedMounts").fix().orElse("")).contains("put the storage root on ext4");
    }

    @Test
    void overlayAsAModuleOrNotAtAll() {
        FakeHost module = hybridRootHost().file("/proc/filesystems", "nodev\tsysfs\n");
        module.dirs.put(Path.of("/lib/modules/6.18.44-fc-v1045/kernel/fs/overlayfs"), List.of("overlay.ko.xz"));
        assertThat(check(run(module), "overlay")).isEqualTo(Check.ok("overlay", Section.HOST,
                "as a module (loaded on first mount, or modprobe overlay)"));
        module.dirs.clear();
        assertThat(check(run(module), "overlay").status()).isEqualTo(Status.MISSING);
    }

    @Test
    void cniPluginsMissingOrIncomplete() {
        FakeHost h = hybridRootHost();
        h.dirs.put(Path.of("/usr/lib/cni"), List.of("bridge", "host-local"));
        Check c = check(run(h), "cniPlugins");
        assertThat(c.status()).isEqualTo(Status.MISSING);
        assertThat(c.found()).isEqualTo("/usr/lib/cni lacks portmap firewall (bridge networks need them)");
        h.dirs.clear();
        assertThat(check(run(h), "cniPlugins").found()).startsWith("none in /usr/lib/cni /opt/cni/bin");
        h.dirs.put(Path.of("/opt/cni/bin"), List.of("bridge", "host-local", "portmap", "firewall"));
        assertThat(check(run(h), "cniPlugins").status()).isEqualTo(Status.OK);
    }

    @Test
    void rootlessWithoutPastaOrSlirp() {
        FakeHost h = unifiedUserHost(true);
        h.path.remove("pasta");
        Check p = check(run(h), "pasta");
        assertThat(p.status()).isEqualTo(Status.MISSING);
        assertThat(p.fix().orElse("")).contains("install passt (pasta) or slirp4netns");
        h.path.put("slirp4netns", Path.of("/usr/bin/slirp4netns"));
        assertThat(check(run(h), "pasta").status()).isEqualTo(Status.OK);
    }

    @Test
    void theEffectiveUidDecidesRootlessAndAnUnreadableOneIsUnknown() {
        assertThat(check(run(hybridRootHost().file("/proc/self/status", "Uid:\t1000\t0\t0\t0\n")), "rootless")
                .found()).as("the effective uid, not the real one").isEqualTo("false (euid 0)");
        Check none = check(run(hybridRootHost().file("/proc/self/status", "Name:\tjava\n")), "rootless");
        assertThat(none).isEqualTo(Check.of("rootless", Section.SECURITY, Status.UNKNOWN,
                "no Uid line in /proc/self/status", null));
        Check bad = check(run(hybridRootHost().file("/proc/self/status", "Uid:\tx\ty\n")), "rootless");
        assertThat(bad.status()).isEqualTo(Status.UNKNOWN);
        assertThat(bad.found()).isEqualTo("/proc/self/status: Uid: line \"Uid:\tx\ty\" is not four ids (real,"
                + " effective, saved, filesystem)");
    }

    @Test
    void parsers() {
        assertThat(PreflightChecks.kernelVersion("6.1.0-13-amd64")).containsExactly(6, 1);
        assertThat(PreflightChecks.userName("a:x:1:1\nb:x:2:2\n", 2)).isEqualTo("b");
        assertThat(PreflightChecks.userName("", 2)).isNull();
    }
}
