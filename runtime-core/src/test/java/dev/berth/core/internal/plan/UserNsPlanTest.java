package dev.berth.core.internal.plan;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.core.ContainerSpec;
import dev.berth.core.Device;
import dev.berth.core.Namespace;
import dev.berth.core.UserNamespace;
import dev.berth.core.internal.user.ResolvedUser;
import dev.berth.linux.internal.LinuxConstants;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** The plan of a container with a user namespace of its own (golden orders and operands). */
class UserNsPlanTest {
    private static final ResolvedUser ROOT = new ResolvedUser(0, 0, List.of(), "/root");
    private static final RootSource OVERLAY = new RootSource.Overlay("/s/l", "a:b", "../c/upper", "../c/work", "/s/c/rootfs");
    private static final ContainerView VIEW = new ContainerView(ContainerView.CgroupView.NONE, List.of(
            new ContainerView.FileMount("/run/berth/c/hosts", "/etc/hosts"),
            new ContainerView.FileMount("/run/berth/c/hostname", "/etc/hostname")), true);
    private static final UserNsPlan USERNS = new UserNsPlan(7, true, Map.of("/dev/xvdc", "/dev/loop3"));

    private static ContainerSpec.Builder spec() {
        return ContainerSpec.builder().image("busybox").command("/bin/true").userNamespace(UserNamespace.of(100000, 65536));
    }

    private static Plan compile(ContainerSpec spec, UserNsPlan userns) {
        return PlanCompiler.compile(spec, OVERLAY, "h", new ProcessPlan(List.of("/bin/true"), List.of(), "/", ROOT),
                CgroupPlacement.NONE, MountSources.NONE, VIEW, -1, userns);
    }

    private static List<String> lines(Plan p) {
        return p.ops().stream().map(Op::toString).collect(Collectors.toList());
    }

    private static List<OpCode> codes(Plan p) {
        return p.ops().stream().map(Op::code).collect(Collectors.toList());
    }

    @Test
    void theUserNamespaceIsClonedWithTheOthers() {
        long flags = (Long) compile(spec().build(), USERNS).ops().get(0).args().get(0);
        assertThat(flags & LinuxConstants.CLONE_NEWUSER).isNotZero();
        assertThat(flags & LinuxConstants.CLONE_NEWNS).isNotZero();
        long host = (Long) compile(spec().build(), null).ops().get(0).args().get(0);
        assertThat(host & LinuxConstants.CLONE_NEWUSER).isZero();
    }

    @Test
    void theRootArrivesIdmappedBeforeTheInitBecomesTheNamespacesRoot() {
        Plan p = compile(spec().build(), USERNS);
        List<OpCode> c = codes(p);
        int recv = c.indexOf(OpCode.RECV_MOUNT);
        assertThat(p.ops().get(recv).args()).containsExactly(7L, "/s/c/rootfs", Op.RESOLVE_PLAIN, 0L);
        assertThat(c.get(recv + 1)).isEqualTo(OpCode.OPEN_ROOT);
        assertThat(c.subList(recv + 2, recv + 5)).containsExactly(OpCode.SETGROUPS, OpCode.SETGID, OpCode.SETUID);
        assertThat(p.ops().get(recv + 4).args()).containsExactly(0L);
        // no overlay mount by the init, no overlay options with host paths: the JVM made it
        assertThat(lines(p)).noneMatch(l -> l.contains("lowerdir"));
        // the /etc files come after, the last one closes the socket
        List<Op> recvs = p.ops().stream().filter(o -> o.code() == OpCode.RECV_MOUNT).toList();
        assertThat(recvs).hasSize(3);
        assertThat(recvs.get(1).args()).containsExactly(7L, "/etc/hosts", Op.RESOLVE_IN_ROOT, 0L);
        assertThat(recvs.get(2).args()).containsExactly(7L, "/etc/hostname", Op.RESOLVE_IN_ROOT, 1L);
        assertThat(recvs.get(2).flags() & Op.OPTIONAL).isNotZero();
        assertThat(recvs.get(2).flags() & Op.NOT_ON_PROCFS).isNotZero();
        // the root's remount by its fd: its host path may be closed to the namespace's root
        Op remount = p.ops().get(c.indexOf(OpCode.PIVOT_ROOT) - 1);
        assertThat(remount.args().get(1)).isEqualTo("/");
        assertThat(remount.args().get(5)).isEqualTo(Op.RESOLVE_IN_ROOT);
    }

    @Test
    void aSpecMountingOverAnEtcFileTakesItOutOfTheTreesSent() {
        ContainerSpec s = spec().mounts(List.of(dev.berth.core.Mount.tmpfs("/etc/hostname"))).build();
        assertThat(PlanCompiler.shownFiles(s, VIEW)).extracting(ContainerView.FileMount::target)
                .containsExactly("/etc/hosts");
        List<Op> recvs = compile(s, USERNS).ops().stream().filter(o -> o.code() == OpCode.RECV_MOUNT).toList();
        assertThat(recvs).hasSize(2);
        assertThat(recvs.get(1).args().get(3)).isEqualTo(1L);
    }

    @Test
    void devicesAreTheHostsNodesBoundOntoEmptyFiles() {
        Plan p = compile(spec().device(new Device("/dev/xvdc", dev.berth.cgroups.DeviceRule.Type.BLOCK, 7, 3, 0660, 0,
                0, "rw")).build(), USERNS);
        assertThat(codes(p)).doesNotContain(OpCode.MKNOD, OpCode.CHOWN);
        assertThat(lines(p)).contains(Op.of(OpCode.MKFILE, "/dev/null", 0L).toString(),
                Op.mount("/dev/null", "/dev/null", "", PlanCompiler.MS_BIND, "", Op.RESOLVE_IN_ROOT_NO_SYMLINKS).toString(),
                Op.mount("/dev/loop3", "/dev/xvdc", "", PlanCompiler.MS_BIND, "", Op.RESOLVE_IN_ROOT_NO_SYMLINKS).toString());
    }

    @Test
    void sysfsIsMountedOnlyInTheContainersOwnNetworkNamespace() {
        assertThat(lines(compile(spec().build(), USERNS))).anyMatch(l -> l.contains("sysfs"));
        List<String> shared = lines(compile(spec().shareNamespace(Namespace.NETWORK).build(), USERNS));
        assertThat(shared).noneMatch(l -> l.contains("\"sysfs\""));
        assertThat(shared).contains(Op.mount("/sys", "/sys", "", PlanCompiler.MS_BIND | PlanCompiler.MS_REC, "",
                Op.RESOLVE_IN_ROOT_NO_SYMLINKS).toString());
        // a PID namespace shared with the host: its procfs is bound, not mounted
        assertThat(lines(compile(spec().shareNamespace(Namespace.PID).build(), USERNS))).contains(Op.mount("/proc",
                "/proc", "", PlanCompiler.MS_BIND | PlanCompiler.MS_REC, "", Op.RESOLVE_IN_ROOT_NO_SYMLINKS).toString());
    }

    @Test
    void devptsTakesTheTtyGroupOnlyWhereItIsMapped() {
        assertThat(lines(compile(spec().build(), USERNS))).anyMatch(l -> l.contains("mode=0620,gid=5"));
        assertThat(lines(compile(spec().build(), new UserNsPlan(7, false, Map.of()))))
                .anyMatch(l -> l.contains("devpts")).noneMatch(l -> l.contains("gid=5"));
    }

    @Test
    void anExecEntersTheUserNamespaceFirstAndBecomesItsRoot() {
        ExecProfile profile = new ExecProfile(TargetPolicy.of(spec().build(), true), spec().build().namespaces(),
                List.of(), List.of(), "", "/", null, List.of(), null, true);
        Plan p = PlanCompiler.enter(profile, 4, 5, "container c's init (pid 1)", CgroupPlacement.NONE, null,
                new ProcessPlan(List.of("id"), List.of(), "/", ROOT), 6);
        Op enter = p.ops().get(0);
        assertThat((Long) enter.args().get(1) & LinuxConstants.CLONE_NEWUSER).isNotZero();
        assertThat((String) enter.args().get(3)).startsWith("pidfd of container c's init (pid 1), user|mnt");
        List<OpCode> c = codes(p);
        int setns = c.indexOf(OpCode.SETNS);
        // the cgroup namespace by its own fd (a pidfd's setns is refused to the namespace's root), then the pidfd closed
        assertThat(p.ops().get(setns).args()).containsExactly(6L, LinuxConstants.CLONE_NEWCGROUP,
                "cgroup namespace of container c's init (pid 1)");
        assertThat(p.ops().get(setns + 1).args()).containsExactly(4L, 0L, "pidfd of container c's init (pid 1)");
        assertThat(c.subList(setns + 2, setns + 5)).containsExactly(OpCode.SETGROUPS, OpCode.SETGID, OpCode.SETUID);
    }
}
