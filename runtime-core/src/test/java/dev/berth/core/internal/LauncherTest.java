package dev.berth.core.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.core.Container;
import dev.berth.core.ContainerSpec;
import dev.berth.core.ContainerStartException;
import dev.berth.core.Stdio;
import dev.berth.core.internal.plan.CgroupPlacement;
import dev.berth.core.internal.plan.ExecProfile;
import dev.berth.core.internal.plan.TargetPolicy;
import dev.berth.core.internal.plan.Plan;
import dev.berth.core.internal.plan.PlanCompiler;
import dev.berth.core.internal.plan.ProcessPlan;
import dev.berth.core.internal.plan.RootSource;
import dev.berth.core.internal.sys.Syscalls;
import dev.berth.core.internal.user.ResolvedUser;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The start protocol against a recording fake kernel: no privileges, no processes. */
class LauncherTest {
    private RecordingSyscalls sys;
    private Reactor reactor;
    private Launcher launcher;
    private Plan plan;

    @BeforeEach
    void setUp() {
        sys = new RecordingSyscalls();
        reactor = new Reactor(sys);
        NativeInit init = NativeInit.load(sys);
        launcher = new Launcher(sys, init, new Supervision(reactor, Runnable::run, Runnable::run), Duration.ofSeconds(5));
        ContainerSpec spec = ContainerSpec.builder().rootfs(Path.of("/r")).command("/bin/true").build();
        plan = PlanCompiler.compile(spec, new RootSource.Directory("/r"), "h",
                new ProcessPlan(List.of("/bin/true"), List.of(), "/", new ResolvedUser(0, 0, List.of(), "/")),
                CgroupPlacement.NONE);
    }

    @AfterEach
    void tearDown() {
        reactor.close();
    }

    @Test
    void sealsTheInitBinaryInAMemfd() {
        assertThat(sys.calls).contains("memfd_create berth-init");
        assertThat(sys.calls).anyMatch(c -> c.startsWith("add_seals ") && c.endsWith(" 15"));
        assertThat(sys.calls).anyMatch(c -> c.startsWith("get_seals "));
    }

    @Test
    void anInitMemfdThatDidNotKeepItsSealsIsRefused() {
        RecordingSyscalls unsealed = new RecordingSyscalls();
        unsealed.sealsOverride = NativeInit.ALL_SEALS & ~Syscalls.F_SEAL_WRITE;
        assertThatThrownBy(() -> NativeInit.fromBytes(unsealed, new byte[] {0x7f, 'E', 'L', 'F'}))
                .isInstanceOf(IllegalStateException.class)
                .hasMessage("berth-init memfd: seals 0x7 after adding 0xf; refusing to run an unsealed init");
        assertThat(unsealed.calls).contains("close 10");
    }

    /** The plan packets written before go, reassembled: a u32 length, then the bytes. */
    private byte[] sentPlan() {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        for (int i = 0; i < sys.written.size(); i++) {
            byte[] w = sys.written.get(i);
            if (sys.writtenFds.get(i) != sys.controlFd || (w.length == 1 && w[0] == 'G')) {
                continue;
            }
            assertThat(w.length).as("packet size").isLessThanOrEqualTo(Launcher.PLAN_CHUNK);
            out.writeBytes(w);
        }
        byte[] all = out.toByteArray();
        int len = ByteBuffer.wrap(all, 0, 4).order(ByteOrder.LITTLE_ENDIAN).getInt();
        assertThat(all.length).isEqualTo(len + 4);
        return java.util.Arrays.copyOfRange(all, 4, all.length);
    }

    @Test
    void aPlanLargerThanOnePacketGoesInChunks() throws Exception {
        List<String> env = new ArrayList<>();
        for (int i = 0; i < 3000; i++) {
            env.add("VARIABLE_" + i + "=" + "x".repeat(100));
        }
        ContainerSpec spec = ContainerSpec.builder().rootfs(Path.of("/r")).command("/bin/true").build();
        Plan big = PlanCompiler.compile(spec, new RootSource.Directory("/r"), "h",
                new ProcessPlan(List.of("/bin/true"), env, "/", new ResolvedUser(0, 0, List.of(), "/")),
                CgroupPlacement.NONE);
        assertThat(big.encode().length).isGreaterThan(4 * Launcher.PLAN_CHUNK);
        sys.monitorReplies.add(RecordingSyscalls.message('C', 777));
        sys.monitorReplies.add(RecordingSyscalls.message('X'));
        launcher.launch("c1", big, Stdio.discard(), Stdio.discard(), Stdio.discard(), List.of(), (p, m) -> { },
                s -> s, LinuxContainer.Resources.NONE);
        assertThat(sentPlan()).isEqualTo(big.encode());
        assertThat(sys.calls.stream().filter(c -> c.startsWith("write " + sys.controlFd + " ")).count())
                .as("packets: the plan's, then go").isGreaterThan(5);
    }

    @Test
    void aMonitorThatNeverAnswersIsKilledAfterTheStartTimeout() {
        sys.monitorSilent = true;
        assertThatThrownBy(() -> launcher.launch("c1", plan, Stdio.discard(), Stdio.discard(), Stdio.discard(),
                List.of(), (p, m) -> { }, s -> s, LinuxContainer.Resources.NONE))
                .isInstanceOf(ContainerStartException.class)
                .hasMessage("start: berth-init monitor 4242 did not report the clone of the container init within"
                        + " 5000 ms (ContainerRuntime.Builder.startTimeout); the container was killed");
        assertThat(sys.calls).containsSubsequence("kill 4242 9", "waitpid 4242");
        assertThat(sys.calls).contains("close " + sys.controlFd);
    }

    @Test
    void aContainerKilledDuringSetupIsAFailedStartNotAnExec() {
        sys.monitorReplies.add(RecordingSyscalls.message('C', 777));
        sys.monitorReplies.add(RecordingSyscalls.message('K', 9)); // wait status: killed by SIGKILL
        assertThatThrownBy(() -> launcher.launch("c1", plan, Stdio.discard(), Stdio.discard(), Stdio.discard(),
                List.of(), (p, m) -> { }, s -> s, LinuxContainer.Resources.NONE))
                .isInstanceOf(ContainerStartException.class)
                .hasMessage("container ended during setup, before its target was exec'd: killed by signal 9");
        assertThat(sys.calls).noneMatch(c -> c.startsWith("epoll_add " + sys.controlFd));
        assertThat(sys.calls).contains("waitpid 4242");
    }

    @Test
    void happyPathSendsPlanThenGoAfterClone() throws Exception {
        sys.monitorReplies.add(RecordingSyscalls.message('C', 777));
        sys.monitorReplies.add(RecordingSyscalls.message('X'));
        List<Long> setupPids = new ArrayList<>();
        Container c = launcher.launch("c1", plan, Stdio.discard(), Stdio.pipe(), Stdio.inherit(), List.of(12345),
                (pid, monitor) -> setupPids.add(pid), s -> s, LinuxContainer.Resources.NONE);
        assertThat(c.pid()).isEqualTo(777);
        assertThat(setupPids).containsExactly(777L);
        // fds: stdin /dev/null, stdout a pipe's write end, stderr inherited, control socket at 3, extra at 4
        Map<Integer, Integer> fds = sys.spawnedFds;
        assertThat(fds.keySet()).containsExactly(0, 1, 2, 3, 4);
        assertThat(fds.get(2)).isEqualTo(2);
        assertThat(fds.get(4)).isEqualTo(12345);
        assertThat(sys.spawnedArgv).containsExactly("berth-init", "4");
        // the plan goes first, go only after the clone report and the host-side setup
        assertThat(sentPlan()).isEqualTo(plan.encode());
        int pidfdOpen = indexOf("pidfd_open 777");
        int go = indexOf("write " + sys.controlFd + " G");
        assertThat(pidfdOpen).isPositive().isLessThan(go);
        // the child's ends are closed in the JVM after the spawn
        int spawn = indexOf("spawn ");
        assertThat(sys.calls.subList(spawn, sys.calls.size()))
                .contains("close " + fds.get(0), "close " + fds.get(1), "close " + fds.get(3));
        assertThat(sys.calls).contains("epoll_add " + sys.controlFd);
    }

    @Test
    void aSyncPointRunsTheHostStepThenSendsGoAgain() throws Exception {
        sys.monitorReplies.add(RecordingSyscalls.message('C', 777));
        sys.monitorReplies.add(RecordingSyscalls.message('S', 12));
        sys.monitorReplies.add(RecordingSyscalls.message('X'));
        List<String> steps = new ArrayList<>();
        launcher.launch("c1", plan, Stdio.discard(), Stdio.inherit(), Stdio.inherit(), List.of(),
                new Launcher.HostSetup() {
                    @Override
                    public void afterClone(long initPid, long monitorPid) {
                        steps.add("clone " + initPid + " " + sys.calls.stream().filter(c -> c.endsWith(" G")).count());
                    }

                    @Override
                    public void atSync(long initPid) {
                        steps.add("sync " + initPid + " " + sys.calls.stream().filter(c -> c.endsWith(" G")).count());
                    }
                }, s -> s, LinuxContainer.Resources.NONE);
        // one go after the clone's setup, the sync step after it, a second go after that
        assertThat(steps).containsExactly("clone 777 0", "sync 777 1");
        assertThat(sys.calls.stream().filter(c -> c.equals("write " + sys.controlFd + " G"))).hasSize(2);
    }

    @Test
    void aFailingSyncStepKillsTheContainer() {
        sys.monitorReplies.add(RecordingSyscalls.message('C', 777));
        sys.monitorReplies.add(RecordingSyscalls.message('S', 12));
        assertThatThrownBy(() -> launcher.launch("c1", plan, Stdio.discard(), Stdio.inherit(), Stdio.inherit(), List.of(),
                new Launcher.HostSetup() {
                    @Override
                    public void afterClone(long initPid, long monitorPid) {}

                    @Override
                    public void atSync(long initPid) throws ContainerStartException {
                        throw new ContainerStartException("volume v: filling it failed");
                    }
                }, s -> s, LinuxContainer.Resources.NONE))
                .isInstanceOf(ContainerStartException.class).hasMessage("volume v: filling it failed");
        assertThat(sys.calls).anyMatch(c -> c.startsWith("pidfd_send_signal ") && c.endsWith(" 9"));
        assertThat(sys.calls).contains("kill 4242 9", "waitpid 4242");
        assertThat(sys.calls.stream().filter(c -> c.equals("write " + sys.controlFd + " G"))).hasSize(1);
    }

    @Test
    void aFailedOpNamesTheStepAndCleansUp() {
        sys.monitorReplies.add(RecordingSyscalls.message('C', 777));
        int pivot = plan.indexOf(dev.berth.core.internal.plan.OpCode.PIVOT_ROOT);
        sys.monitorReplies.add(RecordingSyscalls.error(pivot, 22, "/r"));
        assertThatThrownBy(() -> launcher.launch("c1", plan, Stdio.discard(), Stdio.pipe(), Stdio.pipe(), List.of(),
                (pid, monitor) -> { }, s -> s, LinuxContainer.Resources.NONE))
                .isInstanceOf(ContainerStartException.class)
                .hasMessage("pivot_root(/r): Invalid argument")
                .satisfies(e -> {
                    ContainerStartException cse = (ContainerStartException) e;
                    assertThat(cse.syscall()).isEqualTo("pivot_root");
                    assertThat(cse.operand()).isEqualTo("/r");
                    assertThat(cse.errno()).isEqualTo(22);
                });
        // the monitor is reaped, the control socket and every JVM-side pipe end closed
        assertThat(sys.calls).contains("waitpid 4242", "close " + sys.controlFd);
        for (String c : sys.calls.subList(indexOf("open /dev/null"), sys.calls.size())) {
            if (c.startsWith("pipe -> ")) {
                String[] ends = c.substring(8).split(",");
                assertThat(sys.calls).contains("close " + ends[0], "close " + ends[1]);
            }
        }
        assertThat(sys.calls).noneMatch(c -> c.startsWith("epoll_add " + sys.controlFd));
    }

    @Test
    void aMonitorThatDiesDuringStartIsReported() {
        // no replies: the control socket reads end-of-file
        assertThatThrownBy(() -> launcher.launch("c1", plan, Stdio.discard(), Stdio.discard(), Stdio.discard(),
                List.of(), (pid, monitor) -> { }, s -> s, LinuxContainer.Resources.NONE))
                .isInstanceOf(ContainerStartException.class)
                .hasMessageContaining("monitor 4242 ended during start");
        assertThat(sys.calls).contains("waitpid 4242");
    }

    @Test
    void aFailingHostSetupKillsTheInitBeforeGo() {
        sys.monitorReplies.add(RecordingSyscalls.message('C', 777));
        assertThatThrownBy(() -> launcher.launch("c1", plan, Stdio.discard(), Stdio.discard(), Stdio.discard(),
                List.of(), (pid, monitor) -> {
                    throw new ContainerStartException("cgroup: nope");
                }, s -> s, LinuxContainer.Resources.NONE)).hasMessage("cgroup: nope");
        assertThat(sys.calls).noneMatch(c -> c.equals("write " + sys.controlFd + " G"));
        assertThat(sys.calls).anyMatch(c -> c.startsWith("pidfd_send_signal ") && c.endsWith(" 9"));
        assertThat(sys.calls).contains("waitpid 4242");
    }

    private Plan terminalPlan() {
        ContainerSpec spec = ContainerSpec.builder().rootfs(Path.of("/r")).command("/bin/sh").tty(true).build();
        return PlanCompiler.compile(spec, new RootSource.Directory("/r"), "h",
                new ProcessPlan(List.of("/bin/sh"), List.of(), "/", new ResolvedUser(0, 0, List.of(), "/")),
                CgroupPlacement.NONE);
    }

    private Container launchTerminal(Plan p) throws ContainerStartException {
        return launcher.launch("c1", p, Stdio.discard(), Stdio.discard(), Stdio.discard(), List.of(), (pid, m) -> { },
                s -> s, LinuxContainer.Resources.NONE);
    }

    @Test
    void theContainersPtyMasterComesBeforeTheExecReportAndBecomesItsStreams() throws Exception {
        sys.monitorReplies.add(RecordingSyscalls.message('C', 777));
        sys.monitorReplies.add(new byte[] {'T'});
        sys.passedFds.add(50);
        sys.monitorReplies.add(RecordingSyscalls.message('X'));
        Container c = launchTerminal(terminalPlan());
        assertThat(indexOf("received fd 50")).isGreaterThan(indexOf("write " + sys.controlFd + " G"));
        // the master read as stdout; dups (close-on-exec) written as stdin and resized, each closed on its own
        List<String> dups = sys.calls.stream().filter(x -> x.startsWith("dup 50 -> ")).map(x -> x.substring(10)).toList();
        assertThat(dups).hasSize(2);
        c.stdin().write(3); // Ctrl-C, as a keystroke
        assertThat(sys.calls).contains("write " + dups.get(0) + " \u0003");
        c.resizeTerminal(100, 30);
        assertThat(sys.calls).contains("winsize " + dups.get(1) + " 100x30");
        assertThatThrownBy(c::stderr).isInstanceOf(IllegalStateException.class)
                .hasMessage("container c1: stderr goes to its terminal: read stdout()");
        assertThatThrownBy(() -> c.resizeTerminal(70000, 1)).isInstanceOf(IllegalArgumentException.class);
        // the container ends (its monitor reports), then close() releases all three fds of the master
        sys.monitorReplies.add(RecordingSyscalls.message('W', 0));
        assertThat(((LinuxContainer) c).onReadable()).isTrue();
        c.close();
        assertThat(sys.calls).contains("close 50", "close " + dups.get(0), "close " + dups.get(1));
        c.resizeTerminal(90, 20); // ended: no effect
        assertThat(sys.calls).doesNotContain("winsize " + dups.get(1) + " 90x20");
    }

    @Test
    void aPtyMasterNobodyAskedForIsClosedAndFailsTheStart() {
        sys.monitorReplies.add(RecordingSyscalls.message('C', 777));
        sys.monitorReplies.add(new byte[] {'T'});
        sys.passedFds.add(51);
        sys.monitorReplies.add(RecordingSyscalls.message('X'));
        assertThatThrownBy(() -> launchTerminal(plan)).isInstanceOf(ContainerStartException.class)
                .hasMessage("berth-init monitor 4242: unexpected message MonitorMessage[type=X, value=0, errno=0, operand=]");
        assertThat(sys.calls).contains("close 51", "waitpid 4242");
    }

    @Test
    void aTerminalContainerWhoseMasterDoesNotComeIsAFailedStart() {
        sys.monitorReplies.add(RecordingSyscalls.message('C', 777));
        sys.monitorReplies.add(RecordingSyscalls.message('X'));
        assertThatThrownBy(() -> launchTerminal(terminalPlan())).isInstanceOf(ContainerStartException.class)
                .hasMessageContaining("unexpected message MonitorMessage[type=X");
        assertThat(sys.calls).contains("waitpid 4242", "close " + sys.controlFd);
    }

    @Test
    void aTerminalMessageWithoutAnFdIsAFailedStart() {
        sys.monitorReplies.add(RecordingSyscalls.message('C', 777));
        sys.monitorReplies.add(new byte[] {'T'});
        assertThatThrownBy(() -> launchTerminal(terminalPlan())).isInstanceOf(ContainerStartException.class)
                .hasMessage("berth-init monitor 4242: monitor message 'T' without the pty master it passes");
        assertThat(sys.calls).contains("waitpid 4242");
    }

    @Test
    void aStartThatFailsAfterTheMasterCameClosesIt() {
        Plan p = terminalPlan();
        sys.monitorReplies.add(RecordingSyscalls.message('C', 777));
        sys.monitorReplies.add(new byte[] {'T'});
        sys.passedFds.add(52);
        sys.monitorReplies.add(RecordingSyscalls.error(p.indexOf(dev.berth.core.internal.plan.OpCode.EXEC), 2, "/bin/sh"));
        assertThatThrownBy(() -> launchTerminal(p)).isInstanceOf(ContainerStartException.class)
                .hasMessage("exec(/bin/sh): No such file or directory");
        assertThat(sys.calls).contains("close 52", "waitpid 4242");
        assertThat(sys.calls).noneMatch(x -> x.startsWith("dup 52"));
    }

    private Plan execPlan() {
        ContainerSpec spec = ContainerSpec.builder().rootfs(Path.of("/r")).command("/bin/true").build();
        ExecProfile profile = new ExecProfile(TargetPolicy.of(spec, true), spec.namespaces(), List.of(), List.of(), "",
                "/", null, List.of());
        return PlanCompiler.enter(profile, 4, 5, "container c1's init (pid 777)", CgroupPlacement.NONE, null,
                new ProcessPlan(List.of("nope"), List.of(), "/", new ResolvedUser(0, 0, List.of(), "/")));
    }

    @Test
    void anExecdProcessIsSupervisedByTheReactorAndItsExitReapsItsMonitor() throws Exception {
        sys.monitorReplies.add(RecordingSyscalls.message('C', 778));
        sys.monitorReplies.add(RecordingSyscalls.message('X'));
        LinuxExecProcess p = launcher.enter("exec sh in container c1", execPlan(), Stdio.discard(), Stdio.pipe(),
                Stdio.discard(), List.of(30));
        assertThat(p.pid()).isEqualTo(778);
        assertThat(p.isRunning()).isTrue();
        // the init's pidfd lands at 4 in the monitor; the plan enters through it
        assertThat(sys.calls).anyMatch(c -> c.startsWith("spawn ") && c.contains("4=30"));
        assertThat(sentPlan()).isEqualTo(execPlan().encode());
    }

    @Test
    void aFailedExecNamesTheProcessTheStepAndCleansUp() {
        Plan plan = execPlan();
        sys.monitorReplies.add(RecordingSyscalls.message('C', 778));
        sys.monitorReplies.add(RecordingSyscalls.error(plan.indexOf(dev.berth.core.internal.plan.OpCode.EXEC), 2, "nope"));
        assertThatThrownBy(() -> launcher.enter("exec nope in container c1", plan, Stdio.discard(), Stdio.pipe(),
                Stdio.discard(), List.of(30)))
                .isInstanceOf(ContainerStartException.class)
                .hasMessage("exec nope in container c1: exec(nope): No such file or directory")
                .satisfies(e -> assertThat(((ContainerStartException) e).errno()).isEqualTo(2));
        assertThat(sys.calls).contains("waitpid 4242", "close " + sys.controlFd);
    }

    @Test
    void aSetnsRefusedInTheMonitorNamesThePidfdAndTheNamespaces() {
        sys.monitorReplies.add(RecordingSyscalls.error(0, 1, ""));
        assertThatThrownBy(() -> launcher.enter("exec sh in container c1", execPlan(), Stdio.discard(),
                Stdio.discard(), Stdio.discard(), List.of(30)))
                .isInstanceOf(ContainerStartException.class)
                .hasMessage("exec sh in container c1: setns(pidfd of container c1's init (pid 777),"
                        + " mnt|pid|uts|ipc|net): Operation not permitted");
    }

    private int indexOf(String prefix) {
        for (int i = 0; i < sys.calls.size(); i++) {
            if (sys.calls.get(i).startsWith(prefix)) {
                return i;
            }
        }
        return -1;
    }

    private static Plan listenerPlan() {
        ContainerSpec spec = ContainerSpec.builder().rootfs(Path.of("/r")).command("/bin/true").build();
        ProcessPlan process = new ProcessPlan(List.of("/bin/true"), List.of(), "/", new ResolvedUser(0, 0, List.of(), "/"))
                .withSeccomp(java.util.Optional.of(new ProcessPlan.SeccompFilter("default",
                        new dev.berth.core.internal.seccomp.BpfProgram(new long[] {0x7fff000000000006L},
                                dev.berth.linux.internal.LinuxConstants.SECCOMP_FILTER_FLAG_NEW_LISTENER))));
        return PlanCompiler.compile(spec, new RootSource.Directory("/r"), "h", process, CgroupPlacement.NONE);
    }

    @Test
    void theSeccompListenerFdComesBeforeTheExecReportAndGoesToTheHostSetup() throws Exception {
        sys.monitorReplies.add(RecordingSyscalls.message('C', 777));
        sys.monitorReplies.add(new byte[] {'N'});
        sys.passedFds.add(60);
        sys.monitorReplies.add(RecordingSyscalls.message('X'));
        int[] taken = {-1};
        Container c = launcher.launch("c1", listenerPlan(), Stdio.discard(), Stdio.discard(), Stdio.discard(), List.of(),
                new Launcher.HostSetup() {
                    @Override
                    public void afterClone(long initPid, long monitorPid) {}

                    @Override
                    public void seccompListener(LinuxContainer container, int fd) {
                        taken[0] = fd;
                    }
                }, s -> s, LinuxContainer.Resources.NONE);
        assertThat(c).isNotNull();
        assertThat(taken[0]).isEqualTo(60);
        assertThat(sys.calls).doesNotContain("close 60");
    }

    @Test
    void aSeccompListenerNobodyAskedForIsClosedAndFailsTheStart() {
        sys.monitorReplies.add(RecordingSyscalls.message('C', 777));
        sys.monitorReplies.add(new byte[] {'N'});
        sys.passedFds.add(61);
        sys.monitorReplies.add(RecordingSyscalls.message('X'));
        assertThatThrownBy(() -> launchTerminal(plan)).isInstanceOf(ContainerStartException.class)
                .hasMessageContaining("unexpected message MonitorMessage[type=X");
        assertThat(sys.calls).contains("close 61", "waitpid 4242");
    }

    @Test
    void aPlanAskingForAListenerThatGetsNoneIsAFailedStart() {
        sys.monitorReplies.add(RecordingSyscalls.message('C', 777));
        sys.monitorReplies.add(RecordingSyscalls.message('X'));
        assertThatThrownBy(() -> launchTerminal(listenerPlan())).isInstanceOf(ContainerStartException.class)
                .hasMessageContaining("unexpected message MonitorMessage[type=X");
    }
}
