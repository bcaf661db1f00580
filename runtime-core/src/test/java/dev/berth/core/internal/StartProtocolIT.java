package dev.berth.core.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.core.Container;
import dev.berth.core.ContainerSpec;
import dev.berth.core.ContainerStartException;
import dev.berth.core.ExitStatus;
import dev.berth.core.Stdio;
import dev.berth.core.internal.linux.LinuxSyscalls;
import dev.berth.core.internal.linux.TestLibc;
import dev.berth.core.internal.plan.CgroupPlacement;
import dev.berth.core.internal.plan.Op;
import dev.berth.core.internal.plan.OpCode;
import dev.berth.core.internal.plan.Plan;
import dev.berth.core.internal.plan.PlanCompiler;
import dev.berth.core.internal.plan.ProcessPlan;
import dev.berth.core.internal.plan.RootSource;
import dev.berth.core.internal.sys.Syscalls;
import dev.berth.core.internal.user.ResolvedUser;
import dev.berth.testing.RequiresRoot;
import dev.berth.core.testing.TestRootfs;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The start protocol against the real berth-init, at the Launcher level, where a test can step in
 * between clone and go, or while the init is in the middle of its setup.
 */
@RequiresRoot
class StartProtocolIT {
    private final Syscalls sys = new LinuxSyscalls();
    private Reactor reactor;
    private NativeInit init;
    private Launcher launcher;

    @BeforeEach
    void setUp() {
        reactor = new Reactor(sys);
        init = NativeInit.load(sys);
        launcher = launcherWith(init);
    }

    private Launcher launcherWith(NativeInit binary) {
        return new Launcher(sys, binary, new Supervision(reactor, Runnable::run, Runnable::run), Duration.ofSeconds(30));
    }

    @AfterEach
    void tearDown() {
        reactor.close();
        init.close();
    }

    private static Plan plan(String... probeArgs) {
        List<String> argv = new ArrayList<>(List.of("/bin/probe"));
        argv.addAll(List.of(probeArgs));
        ContainerSpec spec = ContainerSpec.builder().rootfs(TestRootfs.path()).command(argv).build();
        return PlanCompiler.compile(spec, new RootSource.Directory(TestRootfs.path().toString()), "h",
                new ProcessPlan(argv, List.of("PATH=/bin"), "/", new ResolvedUser(0, 0, List.of(), "/root")),
                CgroupPlacement.NONE);
    }

    private static void awaitDead(long pid) throws InterruptedException {
        for (int i = 0; i < 1000; i++) {
            try {
                String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
                if (stat.substring(stat.lastIndexOf(')') + 2).startsWith("Z")) {
                    return;
                }
            } catch (java.io.IOException gone) {
                return;
            }
            Thread.sleep(10);
        }
        throw new AssertionError("process " + pid + " did not die");
    }

    @Test
    void anInitKilledBeforeGoIsReportedAsSuchNotAsAMonitorKilledBySigpipe() {
        assertThatThrownBy(() -> launcher.launch("k", plan("true"), Stdio.discard(), Stdio.discard(), Stdio.discard(),
                List.of(), (initPid, monitor) -> {
                    ProcessHandle.of(initPid).orElseThrow().destroyForcibly();
                    try {
                        awaitDead(initPid);
                    } catch (InterruptedException e) {
                        throw new IllegalStateException(e);
                    }
                }, s -> s, LinuxContainer.Resources.NONE))
                .isInstanceOf(ContainerStartException.class)
                .hasMessage("container ended during setup, before its target was exec'd: killed by signal 9");
    }

    /**
     * The init blocks in its setup (writing to a full pipe), is killed there, and start() says so:
     * before the explicit exec report, the error pipe's end of file read as "exec'd".
     */
    @Test
    void aContainerKilledInTheMiddleOfItsSetupIsAFailedStart() throws Exception {
        int[] pipe = sys.pipe();
        try {
            byte[] fill = new byte[65536]; // a pipe's default capacity: the next write blocks
            assertThat(sys.write(pipe[1], fill, 0, fill.length)).isEqualTo(fill.length);
            Plan normal = plan("true");
            List<Op> ops = new ArrayList<>(normal.ops());
            int go = normal.indexOf(OpCode.WAIT_GO);
            ops.add(go + 1, Op.writeFd(Launcher.CONTROL_FD + 1, "blocks", "a full pipe"));
            // FORK's argument (the init's tail) moves by the inserted op
            int fork = ops.indexOf(ops.stream().filter(o -> o.code() == OpCode.FORK).findFirst().orElseThrow());
            ops.set(fork, Op.of(OpCode.FORK, (Long) ops.get(fork).args().get(0) + 1));
            Plan blocking = new Plan(ops);
            long[] initPid = new long[1];
            CompletableFuture<Container> start = CompletableFuture.supplyAsync(() -> {
                try {
                    return launcher.launch("k", blocking, Stdio.discard(), Stdio.discard(), Stdio.discard(),
                            List.of(pipe[1]), (pid, monitor) -> initPid[0] = pid, s -> s, LinuxContainer.Resources.NONE);
                } catch (ContainerStartException e) {
                    throw new java.util.concurrent.CompletionException(e);
                }
            });
            // wait until the init sleeps in the pipe write, then kill it there
            for (int i = 0; i < 1000 && !blockedInPipeWrite(initPid[0]); i++) {
                Thread.sleep(10);
            }
            assertThat(blockedInPipeWrite(initPid[0])).as("init blocked in its setup").isTrue();
            ProcessHandle.of(initPid[0]).orElseThrow().destroyForcibly();
            assertThatThrownBy(() -> start.get(30, TimeUnit.SECONDS)).hasCauseInstanceOf(ContainerStartException.class)
                    .cause().hasMessage("container ended during setup, before its target was exec'd: killed by signal 9");
        } finally {
            sys.close(pipe[0]);
            sys.close(pipe[1]);
        }
    }

    private static boolean blockedInPipeWrite(long pid) {
        try {
            return pid > 0 && Files.readString(Path.of("/proc/" + pid + "/wchan")).contains("pipe_write");
        } catch (java.io.IOException e) {
            return false;
        }
    }

    /**
     * A kernel without close_range (before 5.9): the test build of berth-init skips it, so its
     * /proc/self/fd fallback must close every inherited fd, the highest the fd limit allows
     * included (the old fallback loop stopped at 65536).
     */
    @Test
    void withoutCloseRangeTheMonitorStillClosesEveryInheritedFd() throws Exception {
        Path variant = Path.of(System.getProperty("berth.test.init.noCloseRange", "target/test-native/berth-init-no-close-range"));
        assertThat(variant).as("test build of berth-init (generate-test-resources)").isRegularFile();
        long limit = openFileLimit();
        List<Integer> leaky = new ArrayList<>();
        int low = sys.open("/etc/hostname", Syscalls.O_RDONLY, 0); // deliberately without O_CLOEXEC
        leaky.add(low);
        leaky.add(TestLibc.dupAtLeast(low, (int) limit - 1));
        for (int i = 0; i < 20; i++) {
            leaky.add(TestLibc.dupAtLeast(low, 100 + i * 500));
        }
        try (NativeInit noCloseRange = NativeInit.fromBytes(sys, Files.readAllBytes(variant))) {
            Launcher l = launcherWith(noCloseRange);
            Container c = l.launch("fds", plan("fds"), Stdio.discard(), Stdio.pipe(), Stdio.inherit(), List.of(),
                    (p, m) -> { }, s -> s, LinuxContainer.Resources.NONE);
            String fds = new String(c.stdout().readAllBytes());
            assertThat(c.onExit().get(30, TimeUnit.SECONDS)).isEqualTo(ExitStatus.exited(0));
            c.close();
            assertThat(fds.lines().map(line -> line.split(" ")[0])).containsExactly("0", "1", "2");
            assertThat(leaky).contains((int) limit - 1);
        } finally {
            leaky.forEach(sys::close);
        }
    }

    private static long openFileLimit() throws java.io.IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/limits"))) {
            if (line.startsWith("Max open files")) {
                return Long.parseLong(line.substring(26).trim().split("\\s+")[0]);
            }
        }
        throw new AssertionError("no Max open files in /proc/self/limits");
    }

    /** The parent pid of a process (field 4 of its stat). */
    private static long parent(long pid) throws java.io.IOException {
        String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
        return Long.parseLong(stat.substring(stat.lastIndexOf(')') + 2).split(" ")[1]);
    }

    private static String nsLink(long pid, String kind) throws java.io.IOException {
        return Files.readSymbolicLink(Path.of("/proc/" + pid + "/ns/" + kind)).toString();
    }

    @Test
    void anInitClonedIntoAGivenUserNamespaceIsInItAndTheMonitorsChildWhileTheMonitorStaysInTheHosts()
            throws Exception {
        dev.berth.core.UserNamespace mapping = dev.berth.core.UserNamespace.of(100000, 65536);
        int[] userns = {-1};
        launcher.runToEnd("a user namespace", PlanCompiler.userNamespace(), (pid, monitor) -> {
            UserNamespaces.writeMaps(sys, pid, mapping);
            userns[0] = sys.open("/proc/" + pid + "/ns/user", Syscalls.O_RDONLY | Syscalls.O_CLOEXEC, 0);
        });
        try {
            String shared = Files.readSymbolicLink(Path.of("/proc/self/fd/" + userns[0])).toString();
            String hosts = nsLink(ProcessHandle.current().pid(), "user");
            assertThat(shared).startsWith("user:[").isNotEqualTo(hosts);
            List<String> seen = new ArrayList<>();
            Plan plan = new Plan(List.of(Op.clone(dev.berth.linux.internal.LinuxConstants.CLONE_NEWNS, -1, Launcher.CONTROL_FD + 1),
                    Op.of(OpCode.PDEATHSIG, 9L), Op.of(OpCode.WAIT_GO)));
            launcher.runToEnd("an init in it", plan, userns[0], (pid, monitor) -> {
                try {
                    seen.add(nsLink(pid, "user"));
                    seen.add(String.valueOf(parent(pid) == monitor));
                    seen.add(nsLink(monitor, "user"));
                    seen.add(String.valueOf(nsLink(pid, "mnt").equals(nsLink(monitor, "mnt"))));
                    seen.add(Files.readString(Path.of("/proc/" + pid + "/uid_map")).trim().replaceAll("\\s+", " "));
                } catch (java.io.IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
            // the init: in the given namespace, the monitor's child, in a mount namespace of its own, mapped as it is
            assertThat(seen).containsExactly(shared, "true", hosts, "false", "0 100000 65536");
        } finally {
            sys.close(userns[0]);
        }
        assertThat(ProcessHandle.current().children().filter(p -> p.info().command().orElse("")
                .endsWith("berth-init")).toList()).as("monitors and their helpers, all ended").isEmpty();
    }

    @Test
    void aUserNamespaceFdThatIsNoUserNamespaceFailsTheCloneNamingSetnsAndLeavesNoProcess() throws Exception {
        int notUserns = sys.open("/proc/self/ns/net", Syscalls.O_RDONLY | Syscalls.O_CLOEXEC, 0);
        try {
            Plan plan = new Plan(List.of(Op.clone(0, -1, Launcher.CONTROL_FD + 1), Op.of(OpCode.WAIT_GO)));
            assertThatThrownBy(() -> launcher.runToEnd("an init", plan, notUserns, (pid, monitor) -> {
                throw new AssertionError("cloned into a network namespace's fd as a user namespace");
            })).isInstanceOf(ContainerStartException.class).hasMessageContaining("setns(CLONE_NEWUSER)")
                    .hasMessageContaining(sys.strerror(22));
        } finally {
            sys.close(notUserns);
        }
        assertThat(ProcessHandle.current().children().filter(p -> p.info().command().orElse("")
                .endsWith("berth-init")).toList()).isEmpty();
    }
}
