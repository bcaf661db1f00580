package dev.berth.core.internal.plan;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.core.Capability;
import dev.berth.core.ContainerSpec;
import dev.berth.core.Namespace;
import dev.berth.core.Rlimit;
import dev.berth.core.TerminalSize;
import dev.berth.core.internal.user.ResolvedUser;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** The plan of a process exec'd into a running container ({@link PlanCompiler#enter}). */
class ExecPlanTest {
    private static final ResolvedUser ROOT = new ResolvedUser(0, 0, List.of(), "/root");
    private static final ResolvedUser ALICE = new ResolvedUser(1000, 1000, List.of(50L), "/home/alice");
    private static final CgroupPlacement HYBRID = new CgroupPlacement(5,
            List.of(new CgroupPlacement.Join(6, "/sys/fs/cgroup/memory/berth/c/cgroup.procs"),
                    new CgroupPlacement.Join(7, "/sys/fs/cgroup/pids/berth/c/cgroup.procs")), true);

    private static ContainerSpec.Builder spec() {
        return ContainerSpec.builder().rootfs(Path.of("/r")).command("/bin/true");
    }

    private static ExecProfile profile(ContainerSpec spec) {
        return new ExecProfile(TargetPolicy.of(spec, true), spec.namespaces(), ExecProfile.limits(spec.rlimits()),
                List.of("PATH=/bin"), "", "/", null, List.of());
    }

    private static List<OpCode> codes(Plan p) {
        return p.ops().stream().map(Op::code).collect(Collectors.toList());
    }

    private static Plan enter(ContainerSpec spec, CgroupPlacement cg, TerminalSize tty, ProcessPlan process) {
        return PlanCompiler.enter(profile(spec), 4, 5, "container c's init (pid 42)", cg, tty, process);
    }

    @Test
    void theMonitorEntersEveryOwnNamespaceButTheCgroupOneThenClonesIntoTheCgroup() {
        Plan p = enter(spec().build(), HYBRID, null, new ProcessPlan(List.of("sh"), List.of(), "/", ROOT));
        assertThat(codes(p).subList(0, 9)).containsExactly(OpCode.ENTER, OpCode.CLONE, OpCode.PDEATHSIG,
                OpCode.WAIT_GO, OpCode.WRITE_FD, OpCode.WRITE_FD, OpCode.SETNS, OpCode.UMASK, OpCode.SETSID);
        long own = Namespace.MOUNT.cloneFlag() | Namespace.PID.cloneFlag() | Namespace.UTS.cloneFlag()
                | Namespace.IPC.cloneFlag() | Namespace.NETWORK.cloneFlag();
        // the init's root (fd 5) becomes the monitor's: a mount namespace's own root is not always the init's
        assertThat(p.ops().get(0).args()).containsExactly(4L, own, 5L,
                "pidfd of container c's init (pid 42), mnt|pid|uts|ipc|net");
        // clone3 with no new namespace, straight into the v2 cgroup (fd 5)
        assertThat(p.ops().get(1).args()).containsExactly(0L, 5L);
        assertThat(p.ops().get(4).args()).containsExactly(6L, "0", "/sys/fs/cgroup/memory/berth/c/cgroup.procs");
        // the cgroup namespace after the joins: one limits which cgroups its members may move between
        assertThat(p.ops().get(6).args()).containsExactly(4L, Namespace.CGROUP.cloneFlag(),
                "pidfd of container c's init (pid 42), cgroup");
        assertThat(p.ops().get(7).args()).containsExactly(0022L);
        assertThat(codes(p)).doesNotContain(OpCode.FORK, OpCode.REAP, OpCode.MOUNT, OpCode.PIVOT_ROOT, OpCode.TTY_OPEN);
        assertThat(codes(p).get(codes(p).size() - 1)).isEqualTo(OpCode.EXEC);
    }

    @Test
    void namespacesTheContainerSharesWithTheHostAreNotEntered() {
        ContainerSpec s = spec().shareNamespace(Namespace.NETWORK).shareNamespace(Namespace.CGROUP).build();
        Plan p = enter(s, CgroupPlacement.NONE, null, new ProcessPlan(List.of("sh"), List.of(), "/", ROOT));
        assertThat((Long) p.ops().get(0).args().get(1) & Namespace.NETWORK.cloneFlag()).isZero();
        assertThat((String) p.ops().get(0).args().get(3)).endsWith(", mnt|pid|uts|ipc");
        // the op still closes the pidfd
        assertThat(p.ops().get(codes(p).indexOf(OpCode.SETNS)).args()).element(1).isEqualTo(0L);
        assertThat(p.ops().get(1).args()).containsExactly(0L, -1L);
        assertThat(codes(p)).doesNotContain(OpCode.WRITE_FD);
    }

    /**
     * Between fork and exec, an exec'd process gets exactly the steps the container's own process
     * got: one method emits both, so whatever restricts the container's process restricts it too.
     */
    @Test
    void theTargetStepsAreTheContainersOwnPlusAParentDeathSignal() {
        ContainerSpec s = spec().dropCapabilities(Capability.NET_RAW).addCapabilities(Capability.SYS_PTRACE)
                .rlimit(Rlimit.Type.NOFILE, 100, 200).build();
        for (ResolvedUser user : List.of(ROOT, ALICE)) {
            ProcessPlan process = new ProcessPlan(List.of("/bin/probe", "id"), List.of("A=1"), "/tmp", user);
            Plan start = PlanCompiler.compile(s, new RootSource.Directory("/r"), "h", process,
                    new CgroupPlacement(-1, List.of(), true));
            Plan exec = enter(s, CgroupPlacement.NONE, null, process);
            List<Op> own = start.ops().subList(start.indexOf(OpCode.SETSID), start.indexOf(OpCode.EXEC) + 1);
            List<Op> entered = exec.ops().subList(exec.indexOf(OpCode.SETSID), exec.indexOf(OpCode.EXEC) + 1);
            // the exec'd process's parent is its monitor: it dies with it (set after the uid change)
            assertThat(entered.get(entered.size() - 3)).isEqualTo(Op.of(OpCode.PDEATHSIG, 9L));
            List<Op> withoutDeathSignal = new java.util.ArrayList<>(entered);
            withoutDeathSignal.remove(entered.size() - 3);
            assertThat(withoutDeathSignal).isEqualTo(own);
            // and the container's resource limits, which its init set before the fork
            assertThat(exec.ops()).contains(Op.setrlimit(7, 100, 200, "RLIMIT_NOFILE"));
        }
    }

    @Test
    void aTerminalIsAPtyOfTheContainersDevptsBoundNowhere() {
        Plan p = enter(spec().build(), CgroupPlacement.NONE, new TerminalSize(100, 30),
                new ProcessPlan(List.of("sh"), List.of(), "/", ALICE));
        List<OpCode> c = codes(p);
        assertThat(p.ops().get(c.indexOf(OpCode.TTY_OPEN)).args()).containsExactly(30L, 100L, "");
        assertThat(c.indexOf(OpCode.TTY_OPEN)).isLessThan(c.indexOf(OpCode.SETSID));
        assertThat(c.indexOf(OpCode.SETSID) + 1).isEqualTo(c.indexOf(OpCode.TTY_ATTACH));
        assertThat(p.ops().get(c.indexOf(OpCode.TTY_ATTACH)).args()).containsExactly(1000L);
    }

    @Test
    void withoutADeviceCgroupTheExecdProcessGetsNoMknodEither() {
        ContainerSpec s = spec().build();
        TargetPolicy none = TargetPolicy.of(s, false);
        assertThat(none.capabilities()).doesNotContain(Capability.MKNOD);
        assertThat(TargetPolicy.of(s, true).capabilities()).contains(Capability.MKNOD);
        ExecProfile profile = new ExecProfile(none, EnumSet.allOf(Namespace.class), List.of(), List.of(), "", "/",
                null, List.of());
        Plan p = PlanCompiler.enter(profile, 4, 5, "x", CgroupPlacement.NONE, null,
                new ProcessPlan(List.of("sh"), List.of(), "/", ROOT));
        long caps = (Long) p.ops().get(codes(p).indexOf(OpCode.CAP_BOUNDING)).args().get(0);
        assertThat(caps & (1L << Capability.MKNOD.bit())).isZero();
    }

    @Test
    void aPlanStartsWithCloneOrEnterThenClone() {
        assertThatThrownBy(() -> new Plan(List.of(Op.of(OpCode.ENTER, 4L, 0L, 5L, "x"), Op.of(OpCode.WAIT_GO))))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new Plan(List.of(Op.of(OpCode.ENTER, 4L, 0L, 5L, "x"))))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
