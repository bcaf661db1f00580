package dev.berth.core.internal.plan;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.core.Capability;
import dev.berth.core.ContainerSpec;
import dev.berth.core.Namespace;
import dev.berth.core.Rlimit;
import dev.berth.core.internal.user.ResolvedUser;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

class PlanCompilerTest {
    private static final ResolvedUser ROOT = new ResolvedUser(0, 0, List.of(), "/root");

    private static final RootSource DIR = new RootSource.Directory("/r");

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
    void rootGetsDockerCapsAsEffectiveAndPermitted() {
        Plan p = PlanCompiler.compile(spec().build(), DIR, "h", proc(ROOT, List.of()), CgroupPlacement.NONE);
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
        Plan p = PlanCompiler.compile(spec().addCapabilities(Capability.NET_ADMIN).build(), DIR, "h", proc(alice, List.of()), CgroupPlacement.NONE);
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
        CgroupPlacement cg = new CgroupPlacement(7, List.of(new CgroupPlacement.Join(4, "/sys/fs/cgroup/memory/x/cgroup.procs")));
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
        int mount = p.ops().indexOf(Op.mount("overlay", "/s/containers/c/rootfs", "overlay", 0,
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
    void aReadonlyImageRootMountsTheOverlayReadonly() {
        RootSource.Overlay overlay = new RootSource.Overlay("/s/l", "A", "u", "w", "/m");
        Plan p = PlanCompiler.compile(spec().readonlyRootfs(true).build(), overlay, "h", proc(ROOT, List.of()),
                CgroupPlacement.NONE);
        assertThat(p.ops()).filteredOn(o -> o.code() == OpCode.MOUNT && "overlay".equals(o.args().get(2)))
                .singleElement().extracting(o -> o.args().get(3)).isEqualTo(PlanCompiler.MS_RDONLY);
    }
}
