package dev.berth.core.internal.plan;

import static dev.berth.core.internal.plan.PlanCompiler.MS_NODEV;
import static dev.berth.core.internal.plan.PlanCompiler.MS_NOSUID;
import static dev.berth.core.internal.plan.PlanCompiler.MS_PRIVATE;
import static dev.berth.core.internal.plan.PlanCompiler.MS_RDONLY;
import static dev.berth.core.internal.plan.PlanCompiler.MS_REMOUNT;
import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.cgroups.DeviceRule;
import dev.berth.core.Capability;
import dev.berth.core.ContainerSpec;
import dev.berth.core.Device;
import dev.berth.core.Namespace;
import dev.berth.core.Rlimit;
import dev.berth.core.internal.user.ResolvedUser;
import dev.berth.cgroups.Cgroup;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

class PlanCompilerTest {
    private static final ResolvedUser ROOT = new ResolvedUser(0, 0, List.of(), "/root");

    private static final RootSource DIR = new RootSource.Directory("/r");
    /** A placement whose cgroup holds the device policy. */
    private static final CgroupPlacement DEVICE_CGROUP = new CgroupPlacement(-1, List.of(), true);

    private static ProcessPlan proc(ResolvedUser user, List<String> env) {
        return new ProcessPlan(List.of("/bin/true"), env, "/", user);
    }

    private static ContainerSpec.Builder spec() {
        return ContainerSpec.builder().rootfs(Path.of("/r")).command("/bin/true");
    }

    private static List<OpCode> codes(Plan p) {
        return p.ops().stream().map(Op::code).collect(Collectors.toList());
    }

    @Test
    void defaultPlanOrder() {
        Plan p = PlanCompiler.compile(spec().build(), DIR, "h", proc(ROOT, List.of("PATH=/bin")), CgroupPlacement.NONE);
        List<OpCode> c = codes(p);
        // clone → sync → mounts → pivot_root → masks → hostname → lo → fork → target ... exec | init tail ... reap
        assertThat(c.get(0)).isEqualTo(OpCode.CLONE);
        assertThat(c.indexOf(OpCode.WAIT_GO)).isLessThan(c.indexOf(OpCode.MOUNT));
        assertThat(c.indexOf(OpCode.OPEN_ROOT)).isLessThan(c.indexOf(OpCode.PIVOT_ROOT));
        assertThat(c.lastIndexOf(OpCode.MKNOD)).isLessThan(c.indexOf(OpCode.PIVOT_ROOT));
        assertThat(c.indexOf(OpCode.PIVOT_ROOT)).isLessThan(c.indexOf(OpCode.MASK));
        assertThat(c.indexOf(OpCode.SETHOSTNAME)).isLessThan(c.indexOf(OpCode.FORK));
        assertThat(c.indexOf(OpCode.SETUID)).isLessThan(c.indexOf(OpCode.CAPSET));
        assertThat(c.indexOf(OpCode.NO_NEW_PRIVS)).isLessThan(c.indexOf(OpCode.EXEC));
        assertThat(c.get(c.size() - 1)).isEqualTo(OpCode.REAP);
        // FORK's argument is where the init continues: right after EXEC
        Op fork = p.ops().get(c.indexOf(OpCode.FORK));
        assertThat((Long) fork.args().get(0)).isEqualTo((long) c.indexOf(OpCode.EXEC) + 1);
        // all six namespaces
        long flags = (Long) p.ops().get(0).args().get(0);
        for (Namespace ns : Namespace.values()) {
            assertThat(flags & ns.cloneFlag()).as(ns.name()).isNotZero();
        }
        assertThat((Long) p.ops().get(0).args().get(1)).isEqualTo(-1L);
    }

    @Test
    void aContainerJoiningAnothersNetworkEntersItInsteadOfMakingOne() {
        ContainerSpec spec = spec().network("container:web").build();
        Plan p = PlanCompiler.compile(spec, DIR, "h", proc(ROOT, List.of()), CgroupPlacement.NONE,
                MountSources.NONE, ContainerView.NONE, 7);
        List<OpCode> c = codes(p);
        long flags = (Long) p.ops().get(0).args().get(0);
        assertThat(flags & Namespace.NETWORK.cloneFlag()).isZero();
        assertThat(flags & Namespace.MOUNT.cloneFlag()).isNotZero();
        int setns = c.indexOf(OpCode.SETNS);
        assertThat(setns).isEqualTo(c.indexOf(OpCode.WAIT_GO) + 1).isLessThan(c.indexOf(OpCode.MOUNT));
        assertThat(p.ops().get(setns).args()).containsExactly(7L, Namespace.NETWORK.cloneFlag(),
                "network namespace of container web");
        assertThat(c).doesNotContain(OpCode.LOOPBACK_UP);
        // without one: its own namespace, loopback up, no setns
        List<OpCode> own = codes(PlanCompiler.compile(spec().network("bridge").build(), DIR, "h", proc(ROOT, List.of()),
                CgroupPlacement.NONE));
        assertThat(own).contains(OpCode.LOOPBACK_UP).doesNotContain(OpCode.SETNS);
    }

    @Test
    void rootGetsDockerCapsAsEffectiveAndPermitted() {
        Plan p = PlanCompiler.compile(spec().build(), DIR, "h", proc(ROOT, List.of()), DEVICE_CGROUP);
        Op capset = p.ops().get(codes(p).indexOf(OpCode.CAPSET));
        assertThat(capset.args()).containsExactly(0xa80425fbL, 0xa80425fbL, 0L);
        Op bounding = p.ops().get(codes(p).indexOf(OpCode.CAP_BOUNDING));
        assertThat(bounding.args()).containsExactly(0xa80425fbL);
        Op ambient = p.ops().get(codes(p).indexOf(OpCode.AMBIENT));
        assertThat(ambient.args()).containsExactly(0L);
    }

    @Test
    void otherUsersKeepCapsOnlyAsBoundingSet() {
        ResolvedUser alice = new ResolvedUser(1000, 1000, List.of(50L), "/home/alice");
        Plan p = PlanCompiler.compile(spec().addCapabilities(Capability.NET_ADMIN).build(), DIR, "h", proc(alice, List.of()), DEVICE_CGROUP);
        List<OpCode> c = codes(p);
        assertThat(p.ops().get(c.indexOf(OpCode.CAPSET)).args()).containsExactly(0L, 0L, 0L);
        assertThat(p.ops().get(c.indexOf(OpCode.CAP_BOUNDING)).args())
                .containsExactly(0xa80425fbL | (1L << Capability.NET_ADMIN.bit()));
        assertThat(p.ops().get(c.indexOf(OpCode.SETGROUPS)).args()).containsExactly(50L);
        assertThat(p.ops().get(c.indexOf(OpCode.SETGID)).args()).containsExactly(1000L);
        assertThat(p.ops().get(c.indexOf(OpCode.SETUID)).args()).containsExactly(1000L);
        assertThat(c.indexOf(OpCode.KEEPCAPS)).isLessThan(c.indexOf(OpCode.SETUID));
    }

    @Test
    void initTailKeepsOnlyKill() {
        Plan p = PlanCompiler.compile(spec().build(), DIR, "h", proc(ROOT, List.of()), CgroupPlacement.NONE);
        List<Op> tail = p.ops().subList(codes(p).indexOf(OpCode.EXEC) + 1, p.ops().size());
        assertThat(tail).extracting(Op::code).containsExactly(OpCode.CAP_BOUNDING, OpCode.CAPSET,
                OpCode.NO_NEW_PRIVS, OpCode.DUMPABLE, OpCode.REAP);
        assertThat(tail.get(1).args()).containsExactly(1L << 5, 1L << 5, 0L);
    }

    @Test
    void sharedNamespacesAreNotCloned() {
        Plan p = PlanCompiler.compile(spec().shareNamespace(Namespace.NETWORK).build(), DIR, "h", proc(ROOT, List.of()), CgroupPlacement.NONE);
        assertThat((Long) p.ops().get(0).args().get(0) & Namespace.NETWORK.cloneFlag()).isZero();
        assertThat(codes(p)).doesNotContain(OpCode.LOOPBACK_UP);
    }

    @Test
    void cgroupJoinsComeBeforeAnyMountAndDeferTheCgroupNamespace() {
        CgroupPlacement cg = new CgroupPlacement(7, List.of(new CgroupPlacement.Join(4, "/sys/fs/cgroup/memory/x/cgroup.procs")), true);
        Plan p = PlanCompiler.compile(spec().build(), DIR, "h", proc(ROOT, List.of()), cg);
        List<OpCode> c = codes(p);
        assertThat(p.ops().get(0).args()).element(1).isEqualTo(7L);
        assertThat((Long) p.ops().get(0).args().get(0) & Namespace.CGROUP.cloneFlag()).isZero();
        assertThat(c.indexOf(OpCode.WRITE_FD)).isLessThan(c.indexOf(OpCode.UNSHARE));
        assertThat(c.indexOf(OpCode.UNSHARE)).isLessThan(c.indexOf(OpCode.MOUNT));
        assertThat(p.ops().get(c.indexOf(OpCode.WRITE_FD)).args())
                .containsExactly(4L, "0", "/sys/fs/cgroup/memory/x/cgroup.procs");
    }

    @Test
    void maskedAndReadonlyPathsAreOptional() {
        Plan p = PlanCompiler.compile(spec().build(), DIR, "h", proc(ROOT, List.of()), CgroupPlacement.NONE);
        List<Op> masks = p.ops().stream().filter(o -> o.code() == OpCode.MASK).toList();
        assertThat(masks).extracting(o -> o.args().get(0)).containsExactlyElementsOf(ContainerSpec.DEFAULT_MASKED_PATHS);
        assertThat(masks).allMatch(o -> (o.flags() & Op.OPTIONAL) != 0);
        assertThat(p.ops()).filteredOn(o -> o.code() == OpCode.MOUNT && "/proc/sys".equals(o.args().get(1)))
                .hasSize(2).allMatch(o -> (o.flags() & Op.OPTIONAL) != 0);
    }

    @Test
    void rlimitsAndReadonlyRootAndExec() {
        ContainerSpec s = spec().rlimit(Rlimit.Type.NOFILE, 100, 200).readonlyRootfs(true).build();
        Plan p = PlanCompiler.compile(s, DIR, "h",
                new ProcessPlan(List.of("sh", "-c", "x"), List.of("A=1"), "/w", ROOT), CgroupPlacement.NONE);
        assertThat(p.ops()).filteredOn(o -> o.code() == OpCode.SETRLIMIT).singleElement()
                .extracting(Op::args).isEqualTo(List.of(7L, 100L, 200L, "RLIMIT_NOFILE"));
        assertThat(p.ops()).anyMatch(o -> o.code() == OpCode.MOUNT && o.args().get(1).equals("/r")
                && ((Long) o.args().get(3) & PlanCompiler.MS_RDONLY) != 0);
        assertThat(p.ops()).filteredOn(o -> o.code() == OpCode.EXEC).singleElement()
                .extracting(Op::args).isEqualTo(List.of(3L, "sh", "-c", "x", "A=1"));
        assertThat(p.ops()).filteredOn(o -> o.code() == OpCode.CHDIR).singleElement()
                .extracting(o -> o.args().get(0)).isEqualTo("/w");
    }

    @Test
    void noNewPrivilegesCanBeTurnedOffForTheTarget() {
        Plan p = PlanCompiler.compile(spec().noNewPrivileges(false).build(), DIR, "h", proc(ROOT, List.of()), CgroupPlacement.NONE);
        List<OpCode> c = codes(p);
        // only the init's own tail keeps it
        assertThat(c.indexOf(OpCode.NO_NEW_PRIVS)).isGreaterThan(c.indexOf(OpCode.EXEC));
    }

    @Test
    void anImageRootIsAnOverlayMountedInsideTheContainer() {
        RootSource.Overlay overlay = new RootSource.Overlay("/s/l", "AAA:BBB", "../containers/c/upper",
                "../containers/c/work", "/s/containers/c/rootfs");
        Plan p = PlanCompiler.compile(spec().build(), overlay, "h", proc(ROOT, List.of()), CgroupPlacement.NONE);
        List<OpCode> c = codes(p);
        int mount = p.ops().indexOf(Op.mount("overlay", "/s/containers/c/rootfs", "overlay", PlanCompiler.MS_NODEV,
                "lowerdir=AAA:BBB,upperdir=../containers/c/upper,workdir=../containers/c/work", Op.RESOLVE_PLAIN));
        assertThat(mount).isPositive();
        // relative lowerdirs: the init stands in the link directory while mounting
        assertThat(p.ops().get(mount - 1)).isEqualTo(Op.of(OpCode.CHDIR, "/s/l"));
        assertThat(p.ops().get(mount + 1)).isEqualTo(Op.of(OpCode.CHDIR, "/"));
        assertThat(p.ops()).contains(Op.of(OpCode.OPEN_ROOT, "/s/containers/c/rootfs"),
                Op.of(OpCode.PIVOT_ROOT, "/s/containers/c/rootfs"));
        assertThat(c.indexOf(OpCode.MOUNT)).isLessThan(mount);    // made private before
        assertThat(p.ops()).noneMatch(o -> o.code() == OpCode.MOUNT && "/s/containers/c/rootfs".equals(o.args().get(0)));
    }

    @Test
    void theRootIsRemountedNodevAndReadonlyOnceTheMountPointsExist() {
        RootSource.Overlay overlay = new RootSource.Overlay("/s/l", "A", "u", "w", "/m");
        for (RootSource root : List.of(overlay, DIR)) {
            for (boolean ro : List.of(true, false)) {
                Plan p = PlanCompiler.compile(spec().readonlyRootfs(ro).build(), root, "h", proc(ROOT, List.of()),
                        CgroupPlacement.NONE);
                List<OpCode> c = codes(p);
                long want = PlanCompiler.MS_BIND | PlanCompiler.MS_REMOUNT | PlanCompiler.MS_NODEV
                        | (ro ? PlanCompiler.MS_RDONLY : 0);
                Op remount = Op.mount("", root.mountpoint(), "", want, "", Op.RESOLVE_PLAIN).keepingFlags();
                int at = p.ops().indexOf(remount);
                assertThat(at).as("%s read-only=%s", root, ro).isPositive();
                assertThat(at).isGreaterThan(c.lastIndexOf(OpCode.MKDIR)).isGreaterThan(c.lastIndexOf(OpCode.MKNOD))
                        .isLessThan(c.indexOf(OpCode.PIVOT_ROOT));
                // a minimal image has no /proc: the overlay itself is mounted writable, never read-only
                assertThat(p.ops()).filteredOn(o -> o.code() == OpCode.MOUNT && "overlay".equals(o.args().get(2)))
                        .allSatisfy(o -> assertThat(o.args().get(3)).isEqualTo(PlanCompiler.MS_NODEV));
            }
        }
    }

    @Test
    void readonlyPathRemountsKeepTheFlagsTheyHad() {
        Plan p = PlanCompiler.compile(spec().build(), DIR, "h", proc(ROOT, List.of()), CgroupPlacement.NONE);
        assertThat(p.ops()).filteredOn(o -> o.code() == OpCode.MOUNT && "/proc/sys".equals(o.args().get(1))
                && ((Long) o.args().get(3) & PlanCompiler.MS_REMOUNT) != 0)
                .singleElement().satisfies(o -> assertThat(o.flags() & Op.KEEP_FLAGS).isNotZero());
    }

    @Test
    void devNodesAreTheDefaultsPlusTheGrantedOnes() {
        ContainerSpec s = spec()
                .device(Device.block("/dev/loop7", 7, 7).withOwner(0, 6))
                .device(new Device("/dev/null", DeviceRule.Type.CHAR, 1, 3, 0600, 0, 0, "rw"))
                .device(Device.character("/dev/net/tun", 10, 200))
                .build();
        Plan p = PlanCompiler.compile(s, DIR, "h", proc(ROOT, List.of()), DEVICE_CGROUP);
        List<Op> nodes = p.ops().stream().filter(o -> o.code() == OpCode.MKNOD).toList();
        assertThat(nodes).extracting(o -> o.args().get(0)).containsExactly("/dev/null", "/dev/zero", "/dev/full",
                "/dev/random", "/dev/urandom", "/dev/tty", "/dev/loop7", "/dev/net/tun");
        assertThat(nodes.get(0).args()).containsExactly("/dev/null", PlanCompiler.S_IFCHR | 0600, 1L, 3L);
        assertThat(nodes.get(6).args()).containsExactly("/dev/loop7", PlanCompiler.S_IFBLK | 0660, 7L, 7L);
        assertThat(p.ops()).contains(Op.of(OpCode.CHOWN, "/dev/loop7", 0L, 6L), Op.of(OpCode.MKDIR, "/dev/net", 0755L));
        assertThat(p.ops()).filteredOn(o -> o.code() == OpCode.CHOWN).hasSize(1);
        // the nodes go into the /dev tmpfs, after it is mounted
        List<OpCode> c = codes(p);
        int devMount = p.ops().indexOf(p.ops().stream().filter(o -> o.code() == OpCode.MOUNT
                && "/dev".equals(o.args().get(1))).findFirst().orElseThrow());
        assertThat(c.indexOf(OpCode.MKNOD)).isGreaterThan(devMount);
    }

    @Test
    void theDevicePolicyIsTheDefaultsThenGrantsThenTheSpecsOwnRules() {
        ContainerSpec s = spec().device(Device.block("/dev/loop7", 7, 7))
                .resources(dev.berth.cgroups.Resources.builder().deviceRule(DeviceRule.parse("c 10:200 rw")).build())
                .build();
        List<DeviceRule> rules = PlanCompiler.deviceRules(s);
        assertThat(rules.subList(0, PlanCompiler.DEFAULT_DEVICE_RULES.size())).isEqualTo(PlanCompiler.DEFAULT_DEVICE_RULES);
        assertThat(rules.subList(PlanCompiler.DEFAULT_DEVICE_RULES.size(), rules.size()))
                .containsExactly(DeviceRule.parse("b 7:7 rwm"), DeviceRule.parse("c 10:200 rw"));
        assertThat(PlanCompiler.DEFAULT_DEVICE_RULES).contains(DeviceRule.parse("c 136:* rwm"), DeviceRule.parse("c 5:2 rwm"))
                .noneMatch(r -> r.type() == DeviceRule.Type.BLOCK && !r.access().equals("m"));
    }

    @Test
    void withoutADeviceCgroupTheTargetGetsNoMknod() {
        Plan p = PlanCompiler.compile(spec().build(), DIR, "h", proc(ROOT, List.of()), CgroupPlacement.NONE);
        long bounding = (Long) p.ops().get(codes(p).indexOf(OpCode.CAP_BOUNDING)).args().get(0);
        assertThat(bounding & (1L << Capability.MKNOD.bit())).isZero();
        assertThat(bounding).isEqualTo(0xa80425fbL & ~(1L << Capability.MKNOD.bit()));
    }

    @Test
    void aTargetSharingTheHostsPidNamespaceDiesWithItsInit() {
        Plan shared = PlanCompiler.compile(spec().shareNamespace(Namespace.PID).build(), DIR, "h", proc(ROOT, List.of()),
                CgroupPlacement.NONE);
        List<OpCode> c = codes(shared);
        int fork = c.indexOf(OpCode.FORK);
        int deathSignal = c.subList(fork, c.size()).indexOf(OpCode.PDEATHSIG) + fork;
        assertThat(deathSignal).as("set in the target").isGreaterThan(fork);
        assertThat(deathSignal).as("after the uid change, which clears it").isGreaterThan(c.indexOf(OpCode.SETUID))
                .isLessThan(c.indexOf(OpCode.EXEC));
        Plan own = PlanCompiler.compile(spec().build(), DIR, "h", proc(ROOT, List.of()), CgroupPlacement.NONE);
        List<OpCode> oc = codes(own);
        assertThat(oc.subList(oc.indexOf(OpCode.FORK), oc.size())).doesNotContain(OpCode.PDEATHSIG);
    }

    @Test
    void mountsComeAfterTheContainersOwnParentsFirstByFdAndBeforeTheRootIsSealed() {
        ContainerSpec spec = spec()
                .mount(dev.berth.core.Mount.bind(Path.of("/srv/a"), "/data/sub"))
                .mount(dev.berth.core.Mount.tmpfs("/run", "size=64m"))
                .mount(dev.berth.core.Mount.volume("v", "/data"))
                .mount(dev.berth.core.Mount.bind(Path.of("/srv/motd"), "/etc/motd", "ro")).build();
        MountSources sources = new MountSources(List.of(new MountSources.Source(5, false), MountSources.Source.NONE,
                new MountSources.Source(6, false), new MountSources.Source(7, true)), false);
        Plan p = PlanCompiler.compile(spec, DIR, "h", proc(ROOT, List.of()), CgroupPlacement.NONE, sources, ContainerView.NONE);
        List<OpCode> c = codes(p);
        int first = c.indexOf(OpCode.MOVE_MOUNT);
        List<String> all = p.ops().stream().map(Op::toString).toList();
        List<String> user = all.subList(all.indexOf("MKDIR[/run, 493]"), c.lastIndexOf(OpCode.MOVE_MOUNT) + 1);
        // fewer components first (docker's order), each mount point made before its mount; the fd
        // stands for the source: no host path reaches the plan
        assertThat(user).containsExactly(
                "MKDIR[/run, 493]", "MOUNT[tmpfs, /run, tmpfs, 14, mode=1777,size=64m, 1]",
                "MKDIR[/data, 493]", "MOVE_MOUNT[6, /data]",
                "MKDIR[/data/sub, 493]", "MOVE_MOUNT[5, /data/sub]",
                "MKFILE[/etc/motd, 420]", "MOVE_MOUNT[7, /etc/motd]");
        assertThat(p.ops()).noneMatch(o -> o.args().contains("/srv/a") || o.args().contains("/srv/motd"));
        // after /dev and its mounts, before the root's remount (nodev, read-only) and pivot_root
        assertThat(c.lastIndexOf(OpCode.MKNOD)).isLessThan(all.indexOf("MKDIR[/run, 493]"));
        int remount = -1;
        for (int i = 0; i < p.ops().size(); i++) {
            if (p.ops().get(i).code() == OpCode.MOUNT && p.ops().get(i).args().get(1).equals("/r")
                    && ((Long) p.ops().get(i).args().get(3) & MS_REMOUNT) != 0) {
                remount = i;
            }
        }
        assertThat(remount).isGreaterThan(c.lastIndexOf(OpCode.MOVE_MOUNT)).isLessThan(c.indexOf(OpCode.PIVOT_ROOT));
        assertThat(c).doesNotContain(OpCode.SYNC);
    }

    @Test
    void newVolumesToFillStopTheInitRightAfterTheRootIsOpened() {
        ContainerSpec spec = spec().mount(dev.berth.core.Mount.volume("v", "/data")).build();
        Plan p = PlanCompiler.compile(spec, DIR, "h", proc(ROOT, List.of()), CgroupPlacement.NONE,
                new MountSources(List.of(new MountSources.Source(4, false)), true), ContainerView.NONE);
        List<OpCode> c = codes(p);
        assertThat(c.indexOf(OpCode.SYNC)).isEqualTo(c.indexOf(OpCode.OPEN_ROOT) + 1);
        assertThat(c.indexOf(OpCode.SYNC)).isLessThan(c.indexOf(OpCode.MOVE_MOUNT));
    }

    @Test
    void aBindMountWithoutItsTreeIsAPlanningError() {
        ContainerSpec spec = spec().mount(dev.berth.core.Mount.bind(Path.of("/srv"), "/srv")).build();
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> PlanCompiler.compile(spec, DIR, "h",
                proc(ROOT, List.of()), CgroupPlacement.NONE)).hasMessageStartingWith("mounts[0]: a bind mount needs");
    }

    @Test
    void mountOptionsBecomeAttributesPropagationAndTmpfsFlags() {
        MountOptions bind = MountOptions.parse(dev.berth.core.Mount.Type.BIND, List.of());
        assertThat(bind).isEqualTo(new MountOptions(true, 0, MS_PRIVATE, true, false, 0, "", false));
        MountOptions ro = MountOptions.parse(dev.berth.core.Mount.Type.BIND,
                List.of("ro", "bind", "nosuid", "noexec", "rslave", "z"));
        assertThat(ro.recursive()).isFalse();
        assertThat(ro.attributes()).isEqualTo(MountOptions.ATTR_RDONLY | MountOptions.ATTR_NOSUID | MountOptions.ATTR_NOEXEC);
        assertThat(ro.propagation()).isEqualTo(1L << 19);
        assertThat(ro.propagationRecursive()).isTrue();
        assertThat(MountOptions.parse(dev.berth.core.Mount.Type.BIND, List.of("shared")).propagation()).isEqualTo(1L << 20);
        MountOptions vol = MountOptions.parse(dev.berth.core.Mount.Type.VOLUME, List.of());
        assertThat(vol.copyUp()).isTrue();
        assertThat(vol.attributes()).as("volumes are nodev").isEqualTo(MountOptions.ATTR_NODEV);
        assertThat(MountOptions.parse(dev.berth.core.Mount.Type.VOLUME, List.of("nocopy", "dev")))
                .extracting(MountOptions::copyUp, MountOptions::attributes).containsExactly(false, 0L);
        MountOptions t = MountOptions.parse(dev.berth.core.Mount.Type.TMPFS, List.of("exec", "ro", "mode=0700", "size=10%"));
        assertThat(t.tmpfsFlags()).isEqualTo(MS_RDONLY | MS_NOSUID | MS_NODEV);
        assertThat(t.tmpfsData()).isEqualTo("mode=0700,size=10%");
        assertThat(t.readOnly()).isTrue();
        for (String[] bad : new String[][] {{"BIND", "nocopy"}, {"VOLUME", "rslave"}, {"TMPFS", "size=lots"},
                {"TMPFS", "mode=999"}, {"TMPFS", "bind"}, {"BIND", "size=1m"}}) {
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> MountOptions.parse(
                    dev.berth.core.Mount.Type.valueOf(bad[0]), List.of(bad[1]))).hasMessageContaining(bad[1].split("=")[0]);
        }
    }

    @Test
    void aTerminalIsOpenedInTheContainersDevptsAndAttachedToTheTargetAfterSetsid() {
        ResolvedUser alice = new ResolvedUser(1000, 1000, List.of(), "/home/alice");
        Plan p = PlanCompiler.compile(spec().tty(true).consoleSize(132, 43).build(), DIR, "h", proc(alice, List.of()),
                CgroupPlacement.NONE);
        List<OpCode> c = codes(p);
        // the mount point for the console, in the plan's /dev tmpfs once devpts is there
        int devpts = indexOfMount(p, "/dev/pts");
        int console = p.ops().indexOf(Op.of(OpCode.MKFILE, "/dev/console", 0600L));
        assertThat(console).isGreaterThan(devpts).isLessThan(c.indexOf(OpCode.PIVOT_ROOT));
        // opened right after the pivot (its /dev/pts/ptmx is the container's), before the fork: rows, columns, console
        assertThat(c.indexOf(OpCode.TTY_OPEN)).isEqualTo(c.indexOf(OpCode.PIVOT_ROOT) + 1);
        assertThat(p.ops().get(c.indexOf(OpCode.TTY_OPEN)).args()).containsExactly(43L, 132L, "/dev/console");
        // the target: a new session, then the pty as its controlling terminal and stdio, owned by its user
        assertThat(c.indexOf(OpCode.TTY_ATTACH)).isEqualTo(c.indexOf(OpCode.SETSID) + 1)
                .isGreaterThan(c.indexOf(OpCode.FORK)).isLessThan(c.indexOf(OpCode.SETUID));
        assertThat(p.ops().get(c.indexOf(OpCode.TTY_ATTACH)).args()).containsExactly(1000L);
        assertThat(c).containsOnlyOnce(OpCode.TTY_OPEN, OpCode.TTY_ATTACH);
    }

    @Test
    void withoutATerminalThereIsNoPtyNoConsoleAndTheTargetStillGetsANewSession() {
        Plan p = PlanCompiler.compile(spec().build(), DIR, "h", proc(ROOT, List.of()), CgroupPlacement.NONE);
        assertThat(codes(p)).doesNotContain(OpCode.TTY_OPEN, OpCode.TTY_ATTACH);
        assertThat(p.ops()).noneMatch(o -> o.code() == OpCode.MKFILE && o.args().get(0).equals("/dev/console"));
        // the session keeps an inherited terminal from becoming the target's controlling terminal
        assertThat(codes(p).indexOf(OpCode.SETSID)).isGreaterThan(codes(p).indexOf(OpCode.FORK));
        Plan sized = PlanCompiler.compile(spec().tty(true).build(), DIR, "h", proc(ROOT, List.of()), CgroupPlacement.NONE);
        assertThat(sized.ops().get(sized.indexOf(OpCode.TTY_OPEN)).args()).containsExactly(24L, 80L, "/dev/console");
    }

    private static int indexOfMount(Plan p, String target) {
        for (int i = 0; i < p.ops().size(); i++) {
            Op o = p.ops().get(i);
            if (o.code() == OpCode.MOUNT && o.args().get(1).equals(target)) {
                return i;
            }
        }
        return -1;
    }

    private static final long READ_ONLY = PlanCompiler.MS_BIND | PlanCompiler.MS_REMOUNT | PlanCompiler.MS_RDONLY
            | PlanCompiler.MS_NOSUID | PlanCompiler.MS_NODEV | PlanCompiler.MS_NOEXEC;
    private static final long NO_SYMLINKS = Op.RESOLVE_IN_ROOT_NO_SYMLINKS;

    private static Plan compile(ContainerView view) {
        return PlanCompiler.compile(spec().build(), DIR, "h", proc(ROOT, List.of()), DEVICE_CGROUP, MountSources.NONE, view);
    }

    /** The ops that make something at or below a path in the root. */
    private static List<Op> below(Plan p, String dir) {
        return p.ops().stream().filter(o -> {
            Object target = switch (o.code()) {
                case MOUNT, SYMLINK -> o.args().get(1);
                case MKDIR, MKFILE -> o.args().get(0);
                default -> "";
            };
            return target.equals(dir) || ((String) target).startsWith(dir + "/");
        }).toList();
    }

    @Test
    void aV2HostShowsTheContainersOwnCgroupReadOnlyAtSysFsCgroup() {
        Plan p = compile(new ContainerView(ContainerView.CgroupView.of(true, Optional.of(Path.of("/sys/fs/cgroup/berth/c")),
                List.of()), List.of(), true));
        assertThat(below(p, "/sys/fs/cgroup")).containsExactly(
                Op.mount("/sys/fs/cgroup/berth/c", "/sys/fs/cgroup", "", PlanCompiler.MS_BIND, "", NO_SYMLINKS),
                Op.mount("", "/sys/fs/cgroup", "", READ_ONLY, "", NO_SYMLINKS));
        int bind = p.ops().indexOf(below(p, "/sys/fs/cgroup").get(0));
        int sysfs = p.ops().indexOf(below(p, "/sys").stream().filter(o -> o.code() == OpCode.MOUNT && "sysfs".equals(o.args().get(2))).findFirst().orElseThrow());
        assertThat(bind).isGreaterThan(sysfs).isLessThan(codes(p).indexOf(OpCode.PIVOT_ROOT));
        // no host path of the container's cgroup is needed after pivot_root: it is bound before
        assertThat(p.ops().subList(codes(p).indexOf(OpCode.PIVOT_ROOT), p.ops().size()))
                .noneMatch(o -> o.args().contains("/sys/fs/cgroup/berth/c"));
    }

    @Test
    void aHybridHostShowsEachJoinedHierarchyReadOnlyOnAReadOnlyTmpfs() {
        List<Cgroup.V1Directory> v1 = List.of(
                new Cgroup.V1Directory("memory", Set.of("memory"), Path.of("/sys/fs/cgroup/memory/own/berth/c")),
                new Cgroup.V1Directory("cpu,cpuacct", Set.of("cpu", "cpuacct"), Path.of("/sys/fs/cgroup/cpu,cpuacct/berth/c")));
        Plan p = compile(new ContainerView(ContainerView.CgroupView.of(false,
                Optional.of(Path.of("/sys/fs/cgroup/unified/own/berth/c")), v1), List.of(), true));
        long tmpfsFlags = PlanCompiler.MS_NOSUID | PlanCompiler.MS_NODEV | PlanCompiler.MS_NOEXEC;
        assertThat(below(p, "/sys/fs/cgroup")).containsExactly(
                Op.mount("tmpfs", "/sys/fs/cgroup", "tmpfs", tmpfsFlags, "mode=755,size=64k", NO_SYMLINKS),
                Op.of(OpCode.MKDIR, "/sys/fs/cgroup/memory", 0755L),
                Op.mount("/sys/fs/cgroup/memory/own/berth/c", "/sys/fs/cgroup/memory", "", PlanCompiler.MS_BIND, "", NO_SYMLINKS),
                Op.mount("", "/sys/fs/cgroup/memory", "", READ_ONLY, "", NO_SYMLINKS),
                Op.of(OpCode.MKDIR, "/sys/fs/cgroup/cpu,cpuacct", 0755L),
                Op.mount("/sys/fs/cgroup/cpu,cpuacct/berth/c", "/sys/fs/cgroup/cpu,cpuacct", "", PlanCompiler.MS_BIND, "",
                        NO_SYMLINKS),
                Op.mount("", "/sys/fs/cgroup/cpu,cpuacct", "", READ_ONLY, "", NO_SYMLINKS),
                Op.of(OpCode.SYMLINK, "cpu,cpuacct", "/sys/fs/cgroup/cpu"),
                Op.of(OpCode.SYMLINK, "cpu,cpuacct", "/sys/fs/cgroup/cpuacct"),
                Op.of(OpCode.MKDIR, "/sys/fs/cgroup/unified", 0755L),
                Op.mount("/sys/fs/cgroup/unified/own/berth/c", "/sys/fs/cgroup/unified", "", PlanCompiler.MS_BIND, "",
                        NO_SYMLINKS),
                Op.mount("", "/sys/fs/cgroup/unified", "", READ_ONLY, "", NO_SYMLINKS),
                Op.mount("", "/sys/fs/cgroup", "", READ_ONLY, "", NO_SYMLINKS));
        // in the container's cgroup namespace, entered after the joins
        assertThat(codes(p).indexOf(OpCode.UNSHARE)).isLessThan(p.ops().indexOf(below(p, "/sys/fs/cgroup").get(0)));
    }

    @Test
    void hierarchiesWithNamesNoDirectoryCanHaveAreLeftOutAndNoCgroupShowsNothing() {
        ContainerView.CgroupView v = ContainerView.CgroupView.of(false, Optional.empty(), List.of(
                new Cgroup.V1Directory("..", Set.of("memory"), Path.of("/x")),
                new Cgroup.V1Directory(".", Set.of("pids"), Path.of("/y")),
                new Cgroup.V1Directory("name with space", Set.of("cpu"), Path.of("/z")),
                new Cgroup.V1Directory("pids", Set.of("pids"), Path.of("/p"))));
        assertThat(v.hierarchies()).extracting(ContainerView.CgroupView.Hierarchy::name).containsExactly("pids");
        assertThat(ContainerView.CgroupView.of(true, Optional.empty(), List.of())).isEqualTo(ContainerView.CgroupView.NONE);
        assertThat(below(compile(ContainerView.NONE), "/sys/fs/cgroup")).isEmpty();
        assertThat(below(compile(ContainerView.NONE), "/etc")).isEmpty();
        assertThat(below(PlanCompiler.compile(spec().build(), DIR, "h", proc(ROOT, List.of()), DEVICE_CGROUP), "/etc"))
                .isEmpty();
    }

    @Test
    void generatedFilesAreBoundOntoEtcOnTheirOwnMountPointsBeforeTheRootTurnsReadOnly() {
        List<ContainerView.FileMount> files = List.of(new ContainerView.FileMount("/run/berth/c/hosts", "/etc/hosts"),
                new ContainerView.FileMount("/run/berth/c/resolv.conf", "/etc/resolv.conf"));
        Plan p = PlanCompiler.compile(spec().readonlyRootfs(true).build(), DIR, "h", proc(ROOT, List.of()),
                DEVICE_CGROUP, MountSources.NONE,
                new ContainerView(ContainerView.CgroupView.NONE, files, true));
        Op bind = Op.mount("/run/berth/c/hosts", "/etc/hosts", "", PlanCompiler.MS_BIND, "", Op.RESOLVE_IN_ROOT).optional()
                .notOnProcfs();
        assertThat(below(p, "/etc")).containsExactly(Op.of(OpCode.MKFILE, "/etc/hosts", 0644L), bind,
                Op.of(OpCode.MKFILE, "/etc/resolv.conf", 0644L),
                Op.mount("/run/berth/c/resolv.conf", "/etc/resolv.conf", "", PlanCompiler.MS_BIND, "", Op.RESOLVE_IN_ROOT)
                        .optional().notOnProcfs());
        long rootRemount = PlanCompiler.MS_BIND | PlanCompiler.MS_REMOUNT | PlanCompiler.MS_NODEV | PlanCompiler.MS_RDONLY;
        int remount = p.ops().indexOf(Op.mount("", "/r", "", rootRemount, "", Op.RESOLVE_PLAIN).keepingFlags());
        assertThat(p.ops().indexOf(bind)).isGreaterThan(codes(p).indexOf(OpCode.OPEN_ROOT)).isLessThan(remount);
        // a root on a read-only file system: no mount point is made, a file whose mount point is missing is left out
        Plan ro = PlanCompiler.compile(spec().build(), DIR, "h", proc(ROOT, List.of()), DEVICE_CGROUP, MountSources.NONE,
                new ContainerView(ContainerView.CgroupView.NONE, files, false));
        assertThat(below(ro, "/etc")).extracting(Op::code).containsExactly(OpCode.MOUNT, OpCode.MOUNT);
        assertThat(below(ro, "/etc")).allMatch(o -> (o.flags() & Op.OPTIONAL) != 0);
    }

    @Test
    void generatedFilesGoOnTopOfTheSpecsMountsUnlessASpecMountTakesTheirPath() {
        ContainerSpec spec = spec().mount(dev.berth.core.Mount.volume("conf", "/etc"))
                .mount(dev.berth.core.Mount.bind(Path.of("/srv/resolv.conf"), "/etc/resolv.conf", "ro")).build();
        List<ContainerView.FileMount> files = List.of(new ContainerView.FileMount("/run/berth/c/hosts", "/etc/hosts"),
                new ContainerView.FileMount("/run/berth/c/resolv.conf", "/etc/resolv.conf"));
        Plan p = PlanCompiler.compile(spec, DIR, "h", proc(ROOT, List.of()), DEVICE_CGROUP,
                new MountSources(List.of(new MountSources.Source(5, false), new MountSources.Source(6, true)), false),
                new ContainerView(ContainerView.CgroupView.NONE, files, true));
        Op hosts = Op.mount("/run/berth/c/hosts", "/etc/hosts", "", PlanCompiler.MS_BIND, "", Op.RESOLVE_IN_ROOT).optional()
                .notOnProcfs();
        assertThat(p.ops()).contains(hosts);
        assertThat(p.ops().indexOf(hosts)).as("on the volume at /etc, not under it")
                .isGreaterThan(p.ops().indexOf(Op.of(OpCode.MOVE_MOUNT, 5L, "/etc").notOnProcfs()));
        assertThat(below(p, "/etc/resolv.conf")).as("the user's file, not the generated one")
                .containsExactly(Op.of(OpCode.MKFILE, "/etc/resolv.conf", 0644L));
        assertThat(p.ops()).contains(Op.of(OpCode.MOVE_MOUNT, 6L, "/etc/resolv.conf").notOnProcfs());
    }

    @Test
    void noSpecMountLandsOnProcfsUnlessItsDestinationIsOneOfLxcfssFiles() {
        ContainerSpec spec = spec().mount(dev.berth.core.Mount.bind(Path.of("/srv/d"), "/data"))
                .mount(dev.berth.core.Mount.tmpfs("/run"))
                .mount(dev.berth.core.Mount.bind(Path.of("/var/lib/lxcfs/proc/meminfo"), "/proc/meminfo")).build();
        Plan p = PlanCompiler.compile(spec, DIR, "h", proc(ROOT, List.of()), DEVICE_CGROUP,
                new MountSources(List.of(new MountSources.Source(5, false), MountSources.Source.NONE,
                        new MountSources.Source(6, true)), false), ContainerView.NONE);
        List<Op> mounts = p.ops().stream().filter(o -> o.code() == OpCode.MOVE_MOUNT
                || (o.code() == OpCode.MOUNT && o.args().get(1).equals("/run"))).toList();
        assertThat(mounts).hasSize(3);
        assertThat(mounts).filteredOn(o -> !o.args().contains("/proc/meminfo"))
                .allMatch(o -> (o.flags() & Op.NOT_ON_PROCFS) != 0);
        assertThat(mounts).filteredOn(o -> o.args().contains("/proc/meminfo")).singleElement()
                .matches(o -> (o.flags() & Op.NOT_ON_PROCFS) == 0);
        // the container's own mounts below /proc and /sys are not the spec's: no flag
        assertThat(p.ops()).filteredOn(o -> o.code() == OpCode.MOUNT && ((String) o.args().get(1)).startsWith("/sys"))
                .isNotEmpty().allMatch(o -> (o.flags() & Op.NOT_ON_PROCFS) == 0);
    }

    private static final ProcessPlan.SeccompFilter FILTER = new ProcessPlan.SeccompFilter("default",
            new dev.berth.core.internal.seccomp.BpfProgram(new long[] {0x7fff000000000006L, 0x0005000100000006L}, 4L));

    @Test
    void theSeccompFilterIsTheTargetsLastStepBeforeExecAfterNoNewPrivs() {
        Plan p = PlanCompiler.compile(spec().build(), DIR, "h", proc(ROOT, List.of()).withSeccomp(Optional.of(FILTER)),
                DEVICE_CGROUP);
        List<OpCode> c = codes(p);
        int at = c.indexOf(OpCode.SECCOMP);
        assertThat(c.get(at + 1)).isEqualTo(OpCode.EXEC);
        assertThat(c.indexOf(OpCode.NO_NEW_PRIVS)).isLessThan(at);
        assertThat(c.indexOf(OpCode.CAPSET)).isLessThan(at);
        assertThat(c.indexOf(OpCode.SECCOMP)).as("one filter: the target's, never the init's").isEqualTo(c.lastIndexOf(OpCode.SECCOMP));
        assertThat(p.ops().get(at).args()).containsExactly("default", 4L, 0x7fff000000000006L, 0x0005000100000006L);
        assertThat(p.ops().get(at).toString()).isEqualTo("SECCOMP[default, flags 4, 2 instructions]");
    }

    @Test
    void withoutNoNewPrivsTheFilterComesBeforeTheCapabilitiesAreDropped() {
        Plan p = PlanCompiler.compile(spec().noNewPrivileges(false).build(), DIR, "h",
                proc(new ResolvedUser(1000, 1000, List.of(), "/"), List.of()).withSeccomp(Optional.of(FILTER)),
                DEVICE_CGROUP);
        List<OpCode> c = codes(p);
        assertThat(c.indexOf(OpCode.SECCOMP)).isGreaterThan(c.indexOf(OpCode.FORK))
                .isLessThan(c.indexOf(OpCode.CAP_BOUNDING)).isLessThan(c.indexOf(OpCode.SETUID));
    }

    @Test
    void anUnconfinedProcessHasNoSeccompOp() {
        Plan p = PlanCompiler.compile(spec().build(), DIR, "h", proc(ROOT, List.of()), DEVICE_CGROUP);
        assertThat(codes(p)).doesNotContain(OpCode.SECCOMP);
    }
}
