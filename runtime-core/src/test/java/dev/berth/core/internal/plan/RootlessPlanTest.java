package dev.berth.core.internal.plan;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.core.ContainerSpec;
import dev.berth.core.Mount;
import dev.berth.core.Namespace;
import dev.berth.core.internal.user.ResolvedUser;
import dev.berth.linux.internal.LinuxConstants;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** The plan of a rootless container (golden orders and operands): the init mounts its root itself. */
class RootlessPlanTest {
    private static final ResolvedUser ROOT = new ResolvedUser(0, 0, List.of(), "/root");
    private static final RootSource OVERLAY = new RootSource.Overlay("/h/s/l", "a:b", "../c/upper", "../c/work",
            "/h/s/c/rootfs");
    private static final ContainerView VIEW = new ContainerView(ContainerView.CgroupView.NONE, List.of(
            new ContainerView.FileMount("/tmp/berth-run-1000/c/hosts", "/etc/hosts")), true);
    private static final Op OWNERS = Op.of(OpCode.LAYER_OWNERS, "/h/s/layers/sha256/abc", "var/www", 33L, 33L, 0750L);
    private static final UserNsPlan SUBIDS = new UserNsPlan(-1, true, Map.of(),
            new UserNsPlan.Rootless(true, List.of(OWNERS)));
    private static final UserNsPlan SINGLE = new UserNsPlan(-1, false, Map.of(), new UserNsPlan.Rootless(false, List.of()));

    private static ContainerSpec.Builder spec() {
        return ContainerSpec.builder().image("busybox").command("/bin/true");
    }

    private static Plan compile(ContainerSpec spec, RootSource root, MountSources mounts, UserNsPlan userns) {
        return PlanCompiler.compile(spec, root, "h", new ProcessPlan(List.of("/bin/true"), List.of(), "/", ROOT),
                CgroupPlacement.NONE, mounts, VIEW, -1, userns);
    }

    private static List<OpCode> codes(Plan p) {
        return p.ops().stream().map(Op::code).collect(Collectors.toList());
    }

    private static List<String> lines(Plan p) {
        return p.ops().stream().map(Op::toString).collect(Collectors.toList());
    }

    @Test
    void theInitBecomesRootGivesTheLayersOwnersThenMountsTheOverlayWithUserxattr() {
        Plan p = compile(spec().build(), OVERLAY, MountSources.NONE, SUBIDS);
        assertThat((Long) p.ops().get(0).args().get(0) & LinuxConstants.CLONE_NEWUSER).isNotZero();
        List<OpCode> c = codes(p);
        int go = c.indexOf(OpCode.WAIT_GO);
        int owners = c.indexOf(OpCode.LAYER_OWNERS);
        assertThat(c.subList(go + 1, owners + 5)).containsExactly(OpCode.UMASK, OpCode.MOUNT, OpCode.SETGROUPS,
                OpCode.SETGID, OpCode.SETUID, OpCode.LAYER_OWNERS, OpCode.CHDIR, OpCode.MOUNT, OpCode.CHDIR,
                OpCode.OPEN_ROOT);
        assertThat(p.ops().get(owners)).isEqualTo(OWNERS);
        assertThat(p.ops().get(owners + 2)).isEqualTo(Op.mount("overlay", "/h/s/c/rootfs", "overlay",
                PlanCompiler.MS_NODEV, "lowerdir=a:b,upperdir=../c/upper,workdir=../c/work,userxattr", Op.RESOLVE_PLAIN));
        // nothing comes over a socket: no RECV_MOUNT; the /etc files are the user's, bound by path
        assertThat(c).doesNotContain(OpCode.RECV_MOUNT, OpCode.MOVE_MOUNT, OpCode.MKNOD);
        assertThat(lines(p)).contains(Op.mount("/tmp/berth-run-1000/c/hosts", "/etc/hosts", "", PlanCompiler.MS_BIND,
                "", Op.RESOLVE_IN_ROOT).optional().notOnProcfs().toString());
        assertThat(lines(p)).anyMatch(l -> l.contains("gid=5"));
    }

    @Test
    void aDirectoryRootIsBoundAndTheSingleIdPlanHasNoSetgroups() {
        Plan p = compile(spec().build(), new RootSource.Directory("/home/u/root"), MountSources.NONE, SINGLE);
        assertThat(codes(p)).doesNotContain(OpCode.SETGROUPS, OpCode.LAYER_OWNERS);
        assertThat(lines(p)).contains(Op.mount("/home/u/root", "/home/u/root", "", PlanCompiler.MS_BIND
                | PlanCompiler.MS_REC, "", Op.RESOLVE_PLAIN).toString());
        assertThat(lines(p)).noneMatch(l -> l.contains("gid=5"));
        // FORK still points at the init's tail: the op after it is the one the parent continues at
        int fork = codes(p).indexOf(OpCode.FORK);
        long tail = (Long) p.ops().get(fork).args().get(0);
        assertThat(p.ops().get((int) tail).code()).isEqualTo(OpCode.CAP_BOUNDING);
        assertThat(codes(p).get((int) tail - 1)).isEqualTo(OpCode.EXEC);
    }

    @Test
    void aRecursiveBindIsMountedByPathAndItsFlagsSetOnEverySubmount() {
        ContainerSpec s = spec().mounts(List.of(Mount.bind(Path.of("/home/u/data"), "/data", "ro", "nosuid"))).build();
        Plan p = compile(s, OVERLAY, new MountSources(List.of(MountSources.Source.byPath("/home/u/data", false)), false),
                SUBIDS);
        List<Op> data = p.ops().stream().filter(o -> o.code() != OpCode.MKDIR && "/data".equals(o.operand())).toList();
        assertThat(data).extracting(Op::code).containsExactly(OpCode.MOUNT, OpCode.MOUNT_SETATTR, OpCode.MOUNT);
        assertThat(data.get(0).args()).containsExactly("/home/u/data", "/data", "", PlanCompiler.MS_BIND
                | PlanCompiler.MS_REC, "", Op.RESOLVE_IN_ROOT);
        assertThat(data.get(0).flags() & Op.NOT_ON_PROCFS).isNotZero();
        // mount_setattr(AT_RECURSIVE): a remount would make the top mount read-only and leave the host's
        // submounts (say /dev/shm of a bound /dev) writable
        assertThat(data.get(1).args()).containsExactly("/data", LinuxConstants.MOUNT_ATTR_RDONLY
                | LinuxConstants.MOUNT_ATTR_NOSUID, Op.RESOLVE_IN_ROOT);
        assertThat(data.get(1).flags() & Op.NOT_ON_PROCFS).isNotZero();
        assertThat((Long) data.get(2).args().get(3)).isEqualTo(PlanCompiler.MS_PRIVATE | PlanCompiler.MS_REC);
        assertThat(codes(p)).doesNotContain(OpCode.MOVE_MOUNT);
    }

    @Test
    void aNonRecursiveBindGetsItsFlagsByARemountThatKeepsLockedOnes() {
        ContainerSpec s = spec().mounts(List.of(Mount.bind(Path.of("/home/u/data"), "/data", "bind", "ro"))).build();
        Plan p = compile(s, OVERLAY, new MountSources(List.of(MountSources.Source.byPath("/home/u/data", false)), false),
                SUBIDS);
        List<Op> data = p.ops().stream().filter(o -> o.code() != OpCode.MKDIR && "/data".equals(o.operand())).toList();
        assertThat(data).extracting(Op::code).containsExactly(OpCode.MOUNT, OpCode.MOUNT, OpCode.MOUNT);
        assertThat((Long) data.get(0).args().get(3)).isEqualTo(PlanCompiler.MS_BIND);
        assertThat((Long) data.get(1).args().get(3)).isEqualTo(PlanCompiler.MS_BIND | PlanCompiler.MS_REMOUNT
                | PlanCompiler.MS_RDONLY);
        assertThat(data.get(1).flags() & Op.KEEP_FLAGS).isNotZero();
    }

    @Test
    void procIsMountedInItsOwnPidNamespaceAndSysBoundWithoutItsOwnNetwork() {
        List<String> own = lines(compile(spec().build(), OVERLAY, MountSources.NONE, SUBIDS));
        assertThat(own).anyMatch(l -> l.startsWith("MOUNT[proc, /proc, proc,"))
                .anyMatch(l -> l.startsWith("MOUNT[sysfs, /sys, sysfs,"));
        List<String> host = lines(compile(spec().shareNamespace(Namespace.NETWORK).shareNamespace(Namespace.PID)
                .build(), OVERLAY, MountSources.NONE, SUBIDS));
        assertThat(host).noneMatch(l -> l.startsWith("MOUNT[sysfs,")).noneMatch(l -> l.startsWith("MOUNT[proc,"));
        assertThat(host).contains(Op.mount("/sys", "/sys", "", PlanCompiler.MS_BIND | PlanCompiler.MS_REC, "",
                Op.RESOLVE_IN_ROOT_NO_SYMLINKS).toString());
    }

    @Test
    void aTreeIsRemovedAsTheRootOfANewUserNamespace() {
        Plan p = PlanCompiler.removeTree("/h/s/containers/c", true);
        assertThat(codes(p)).containsExactly(OpCode.CLONE, OpCode.PDEATHSIG, OpCode.WAIT_GO, OpCode.SETGROUPS,
                OpCode.SETGID, OpCode.SETUID, OpCode.REMOVE_TREE);
        assertThat(p.ops().get(0).args()).containsExactly(LinuxConstants.CLONE_NEWUSER, -1L);
        assertThat(p.ops().get(6).args()).containsExactly("/h/s/containers/c");
        assertThat(codes(PlanCompiler.removeTree("/d", false))).doesNotContain(OpCode.SETGROUPS);
    }

    @Test
    void anEndedRootIsHeldInAUserNamespaceOfItsOwnUntilASyncWhoseGoNeverComes() {
        Plan p = PlanCompiler.holdRootRootless(OVERLAY, false);
        assertThat(codes(p)).containsExactly(OpCode.CLONE, OpCode.PDEATHSIG, OpCode.WAIT_GO, OpCode.MOUNT,
                OpCode.SETGID, OpCode.SETUID, OpCode.CHDIR, OpCode.MOUNT, OpCode.CHDIR, OpCode.SYNC);
        assertThat((Long) p.ops().get(0).args().get(0)).isEqualTo(LinuxConstants.CLONE_NEWUSER
                | LinuxConstants.CLONE_NEWNS);
        assertThat(p.ops().get(7).args().get(4)).isEqualTo("lowerdir=a:b,upperdir=../c/upper,workdir=../c/work,userxattr");
        assertThat(codes(PlanCompiler.holdRootRootless(new RootSource.Directory("/d"), true))).contains(OpCode.SETGROUPS)
                .doesNotContain(OpCode.CHDIR);
    }

    @Test
    void aContainerJoiningTheSharedUserNamespaceClonesInItsFdWithoutANewOneAndDoesTheSameSetup() {
        UserNsPlan joined = new UserNsPlan(-1, true, Map.of(), new UserNsPlan.Rootless(true, List.of(OWNERS), 7));
        Plan own = compile(spec().build(), OVERLAY, MountSources.NONE, SUBIDS);
        Plan p = compile(spec().build(), OVERLAY, MountSources.NONE, joined);
        List<Object> clone = p.ops().get(0).args();
        assertThat(clone).hasSize(3);
        assertThat((Long) clone.get(0) & LinuxConstants.CLONE_NEWUSER).isZero();
        assertThat((Long) clone.get(0) | LinuxConstants.CLONE_NEWUSER).isEqualTo(own.ops().get(0).args().get(0));
        assertThat(clone.get(2)).isEqualTo(7L);
        // everything after the clone is the same: the init becomes the namespace's root, gives the owners, mounts
        assertThat(p.ops().subList(1, p.ops().size())).isEqualTo(own.ops().subList(1, own.ops().size()));
        assertThat(own.ops().get(0).args()).hasSize(2);
    }

    @Test
    void theSharedUserNamespaceIsMadeByAProcessThatOnlyWaitsForItsMapsAndGo() {
        Plan p = PlanCompiler.userNamespace();
        assertThat(codes(p)).containsExactly(OpCode.CLONE, OpCode.PDEATHSIG, OpCode.WAIT_GO);
        assertThat(p.ops().get(0).args()).containsExactly(LinuxConstants.CLONE_NEWUSER, -1L);
    }

    @Test
    void removalAndRootHoldJoinTheSharedUserNamespaceWhenGivenItsFd() {
        Plan rm = PlanCompiler.removeTree("/d", true, 4);
        assertThat(rm.ops().get(0).args()).containsExactly(0L, -1L, 4L);
        assertThat(codes(rm)).isEqualTo(codes(PlanCompiler.removeTree("/d", true)));
        Plan hold = PlanCompiler.holdRootRootless(OVERLAY, true, 4);
        assertThat(hold.ops().get(0).args()).containsExactly(LinuxConstants.CLONE_NEWNS, -1L, 4L);
        assertThat(hold.ops().subList(1, hold.ops().size()))
                .isEqualTo(PlanCompiler.holdRootRootless(OVERLAY, true).ops().subList(1, hold.ops().size()));
    }

    @Test
    void aCopysReaderJoinsTheSharedUserNamespaceBecomesItsRootAndAnswersOnlyReadingOpensBelowAGivenFd() {
        Plan p = PlanCompiler.openFiles(true, 4, 5);
        assertThat(codes(p)).containsExactly(OpCode.CLONE, OpCode.PDEATHSIG, OpCode.WAIT_GO, OpCode.SETGROUPS,
                OpCode.SETGID, OpCode.SETUID, OpCode.OPEN_FILES);
        // no namespace but the user's: it resolves only below the fds the JVM sends it
        assertThat(p.ops().get(0).args()).containsExactly(0L, -1L, 4L);
        List<Object> serve = p.ops().get(6).args();
        assertThat(serve.get(0)).isEqualTo(5L);
        long allowed = (Long) serve.get(1);
        assertThat(allowed & (LinuxConstants.O_WRONLY | LinuxConstants.O_RDWR | LinuxConstants.O_CREAT
                | LinuxConstants.O_TRUNC)).as("no writing open").isZero();
        assertThat(allowed & LinuxConstants.O_NOFOLLOW).isNotZero();
        assertThat(serve.get(2)).isEqualTo(LinuxConstants.RESOLVE_NO_MAGICLINKS);
        assertThat(serve.get(3)).isEqualTo(LinuxConstants.RESOLVE_BENEATH | LinuxConstants.RESOLVE_IN_ROOT);
        assertThat(OpCode.OPEN_FILES.code()).isEqualTo(39);
        // a new namespace (no shared one: a single id), no setgroups there
        Plan own = PlanCompiler.openFiles(false, -1, 4);
        assertThat(own.ops().get(0).args()).containsExactly(LinuxConstants.CLONE_NEWUSER, -1L);
        assertThat(codes(own)).doesNotContain(OpCode.SETGROUPS);
        assertThat(own.ops().get(5).args().get(0)).isEqualTo(4L);
    }

    @Test
    void withoutSetgroupsShiftsTheForkTarget() {
        Plan exec = PlanCompiler.withoutSetgroups(compile(spec().build(), OVERLAY, MountSources.NONE, SUBIDS));
        assertThat(codes(exec)).doesNotContain(OpCode.SETGROUPS);
        int fork = codes(exec).indexOf(OpCode.FORK);
        assertThat(exec.ops().get((int) (long) (Long) exec.ops().get(fork).args().get(0)).code())
                .isEqualTo(OpCode.CAP_BOUNDING);
    }
}
