package dev.berth.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.core.testing.ContainerTestSupport;
import dev.berth.core.testing.TestRootfs;
import dev.berth.testing.RequiresCgroups;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Processes exec'd into running containers, seen from inside (namespaces, root, cgroup, identity,
 * environment, working directory) and from the JVM (exit codes, streams, terminal, signals), and
 * what a hostile container can reach of a process that enters it.
 */
@RequiresCgroups
class ExecIT extends ContainerTestSupport {

    /** A container that sleeps until it is closed. */
    static Container sleeper(ContainerSpec.Builder spec) throws ContainerException {
        return runtime.start(spec.build());
    }

    static ContainerSpec.Builder sleeping() {
        return ContainerSpec.builder().rootfs(TestRootfs.path()).command("/bin/probe", "sleep", "120")
                .stdout(Stdio.discard()).stderr(Stdio.inherit());
    }

    private static ExecSpec.Builder exec(String... args) {
        List<String> argv = new ArrayList<>(List.of("/bin/probe"));
        argv.addAll(List.of(args));
        return ExecSpec.builder().command(argv).stdout(Stdio.pipe()).stderr(Stdio.inherit());
    }

    private record Ran(ExitStatus status, String stdout) {}

    private static Ran run(Container c, ExecSpec.Builder spec) throws Exception {
        try (ExecProcess p = c.exec(spec.build())) {
            CompletableFuture<String> out = CompletableFuture.supplyAsync(() -> read(p.stdout()));
            ExitStatus s = p.onExit().get(60, TimeUnit.SECONDS);
            return new Ran(s, out.get(10, TimeUnit.SECONDS));
        }
    }

    static String out(Container c, String... args) throws Exception {
        Ran r = run(c, exec(args));
        assertThat(r.status()).as("probe %s: %s", String.join(" ", args), r.stdout()).isEqualTo(ExitStatus.exited(0));
        return r.stdout();
    }

    @AfterEach
    void nothingIsLeft() throws IOException {
        try (Stream<Path> s = Files.list(stateRoot)) {
            assertThat(s.toList()).as("state directories left").isEmpty();
        }
    }

    /**
     * A host pid whose {@code /proc/PID/ns} links this test may read for the container: its init's
     * (the rootless re-run's init is closed to the user, so it looks through the init's child).
     */
    protected long namespaceHolder(Container c) {
        return c.pid();
    }

    /** The bounding set a container of {@code caps} gets (the rootless re-run's has no CAP_MKNOD: no device cgroup). */
    protected long boundingSet(Set<Capability> caps) {
        return Capability.mask(caps);
    }

    @Test
    void theProcessSharesTheContainersNamespacesRootAndCgroup() throws Exception {
        try (Container c = sleeper(sleeping().hostname("box"))) {
            assertThat(out(c, "hostname")).isEqualTo("box\n");
            // the container's PID namespace: its init is 1 and the sleeper 2; the exec'd process is
            // another, whose parent (its monitor, outside the namespace) shows as 0
            String[] pid = out(c, "pid").trim().split(" ");
            assertThat(Long.parseLong(pid[0])).isGreaterThan(2);
            assertThat(pid[1]).isEqualTo("0");
            assertThat(out(c, "ps").lines().toList()).contains("1", "2").hasSize(3); // init, sleeper, ps itself
            // the container's root: its /etc/passwd, not the host's
            assertThat(out(c, "cat", "/etc/passwd")).isEqualTo(Files.readString(TestRootfs.path().resolve("etc/passwd")));
            // the container's mount namespace: the same mounts as its own process
            for (String ns : List.of("mnt", "pid", "uts", "ipc", "net", "cgroup")) {
                Path link = Path.of("/proc/" + namespaceHolder(c) + "/ns/" + ns);
                assertThat(out(c, "stat", "/proc/self/ns/" + ns)).as(ns)
                        .isEqualTo(out(c, "stat", "/proc/1/ns/" + ns));
                assertThat(Files.readSymbolicLink(link)).isNotEqualTo(Files.readSymbolicLink(Path.of("/proc/self/ns/" + ns)));
            }
            // its cgroups, seen from its own cgroup namespace, are the container's
            assertThat(out(c, "cat", "/proc/self/cgroup")).isEqualTo(out(c, "cat", "/proc/1/cgroup"));
            // and the same from the host: every hierarchy
            try (ExecProcess p = c.exec(exec("sleep", "30").build())) {
                assertThat(Files.readString(Path.of("/proc/" + p.pid() + "/cgroup")))
                        .isEqualTo(Files.readString(Path.of("/proc/" + c.pid() + "/cgroup")));
            }
        }
    }

    @Test
    void environmentUserAndWorkingDirectoryAreTheContainersUnlessTheSpecSaysOtherwise() throws Exception {
        try (Container c = sleeper(sleeping().env("A", "container").env("B", "container").workingDir("/tmp"))) {
            List<String> env = out(c, "env").lines().toList();
            assertThat(env).contains("A=container", "B=container", "HOME=/root", "PATH=" + pathOf(env));
            assertThat(out(c, "pwd")).isEqualTo("/tmp\n");
            assertThat(out(c, "id")).isEqualTo("uid=0 gid=0 euid=0 egid=0\n");

            Ran r = run(c, exec("env", "--", "pwd", "--", "id").env("B", "exec").env("C", "new").user("alice")
                    .workingDir("/home/alice"));
            List<String> lines = r.stdout().lines().toList();
            assertThat(lines).contains("A=container", "B=exec", "C=new", "HOME=/home/alice")
                    .doesNotContain("B=container", "HOME=/root");
            assertThat(lines.subList(lines.size() - 2, lines.size()))
                    .containsExactly("/home/alice", "uid=1000 gid=1000 euid=1000 egid=1000");
            assertThat(run(c, exec("id").user("65534:50")).stdout()).isEqualTo("uid=65534 gid=50 euid=65534 egid=50\n");
        }
    }

    private static String pathOf(List<String> env) {
        return env.stream().filter(e -> e.startsWith("PATH=")).findFirst().orElse("PATH=").substring(5);
    }

    @Test
    void capabilitiesAreTheContainersAndANonRootUserHasNoneEffective() throws Exception {
        try (Container c = sleeper(sleeping().dropCapabilities(Capability.NET_RAW).noNewPrivileges(true))) {
            String own = capLines(out(c, "cat", "/proc/1/status"));
            String root = capLines(out(c, "status"));
            String target = capLines(out(c, "cat", "/proc/2/status"));
            assertThat(root).isEqualTo(target);
            assertThat(own).isNotEqualTo(root); // the init keeps only CAP_KILL
            String alice = capLines(run(c, exec("status").user("alice")).stdout());
            assertThat(alice).contains("CapEff:\t0000000000000000", "CapPrm:\t0000000000000000",
                    "CapBnd:\t" + String.format("%016x", boundingSet(Set.copyOf(
                            ContainerSpec.builder().rootfs(TestRootfs.path()).command("x").dropCapabilities(Capability.NET_RAW)
                                    .build().capabilities()))));
            assertThat(out(c, "status")).contains("NoNewPrivs:\t1");
        }
    }

    private static String capLines(String status) {
        return String.join("\n", status.lines().filter(l -> l.startsWith("Cap") || l.startsWith("NoNewPrivs")).toList());
    }

    @Test
    void exitCodesSignalsAndAMissingProgram() throws Exception {
        try (Container c = sleeper(sleeping())) {
            assertThat(run(c, exec("exit", "7")).status()).isEqualTo(ExitStatus.exited(7));
            assertThat(run(c, exec("kill-self", "15")).status()).isEqualTo(ExitStatus.killed(15));
            try (ExecProcess p = c.exec(exec("sleep", "60").build())) {
                assertThat(p.isRunning()).isTrue();
                p.kill();
                assertThat(p.onExit().get(30, TimeUnit.SECONDS)).isEqualTo(ExitStatus.killed(9));
                assertThat(p.isRunning()).isFalse();
            }
            assertThat(c.isRunning()).as("the container outlives its exec'd processes").isTrue();
            assertThatThrownBy(() -> c.exec(ExecSpec.of("nope")))
                    .isInstanceOf(ContainerStartException.class)
                    .hasMessage("exec nope in container " + c.id() + ": exec(nope): No such file or directory")
                    .satisfies(e -> assertThat(((ContainerStartException) e).errno()).isEqualTo(2));
            assertThatThrownBy(() -> c.exec(exec("pwd").workingDir("/no/such/dir").build()))
                    .isInstanceOf(ContainerStartException.class).hasMessageEndingWith("chdir(/no/such/dir): No such file or directory");
            assertThatThrownBy(() -> c.exec(exec("pwd").user("nobody-here").build()))
                    .isInstanceOf(ContainerStartException.class).hasMessageContaining("nobody-here");
        }
    }

    @Test
    void stdinAndStdoutArePipes() throws Exception {
        try (Container c = sleeper(sleeping());
             ExecProcess p = c.exec(exec("stdin").stdin(Stdio.pipe()).stderr(Stdio.pipe()).build())) {
            CompletableFuture<String> out = CompletableFuture.supplyAsync(() -> read(p.stdout()));
            try (OutputStream in = p.stdin()) {
                in.write("hello through a pipe\n".getBytes(StandardCharsets.UTF_8));
            }
            assertThat(p.onExit().get(30, TimeUnit.SECONDS)).isEqualTo(ExitStatus.exited(0));
            assertThat(out.get(10, TimeUnit.SECONDS)).isEqualTo("hello through a pipe\n");
            assertThat(read(p.stderr())).isEmpty();
        }
    }

    @Test
    void aTerminalIsAPtyOfTheContainersOwnDevpts() throws Exception {
        try (Container c = sleeper(sleeping());
             ExecProcess p = c.exec(ExecSpec.builder().command("/bin/probe", "tty", "--", "ctty", "--", "winsize")
                     .tty(true).consoleSize(new TerminalSize(100, 30)).build())) {
            assertThatThrownBy(p::stderr).isInstanceOf(IllegalStateException.class);
            String screen = read(p.stdout());
            assertThat(p.onExit().get(30, TimeUnit.SECONDS)).isEqualTo(ExitStatus.exited(0));
            List<String> lines = screen.lines().toList();
            assertThat(lines.get(0)).matches("/dev/pts/\\d+");
            assertThat(lines.get(1)).isEqualTo("ctty: this session's, foreground");
            assertThat(lines.get(2)).isEqualTo("30 100"); // rows, columns
        }
    }

    @Test
    void concurrentExecsAddNoThreads() throws Exception {
        try (Container c = sleeper(sleeping())) {
            out(c, "echo"); // the first exec may start the callback pool's thread
            int threads = Thread.activeCount();
            List<ExecProcess> ps = new ArrayList<>();
            try {
                for (int i = 0; i < 8; i++) {
                    ps.add(c.exec(exec("sleep", "30").stdout(Stdio.discard()).build()));
                }
                assertThat(Thread.activeCount()).isLessThanOrEqualTo(threads);
                Set<Long> pids = new java.util.HashSet<>();
                ps.forEach(p -> pids.add(p.pid()));
                assertThat(pids).hasSize(8);
                Ran a = run(c, exec("echo", "a"));
                Ran b = run(c, exec("echo", "b"));
                assertThat(a.stdout() + b.stdout()).isEqualTo("a\nb\n");
            } finally {
                ps.forEach(ExecProcess::close);
            }
            for (ExecProcess p : ps) {
                assertThat(p.onExit().get(30, TimeUnit.SECONDS)).isEqualTo(ExitStatus.killed(9));
                assertThat(Files.exists(Path.of("/proc/" + p.pid() + "/ns"))).as("process %d left", p.pid()).isFalse();
            }
        }
    }

    @Test
    void anEndedContainerTakesItsExecsAndRefusesNewOnes() throws Exception {
        Container c = sleeper(sleeping());
        ExecProcess p = c.exec(exec("sleep", "60").stdout(Stdio.discard()).build());
        c.kill();
        assertThat(c.onExit().get(30, TimeUnit.SECONDS)).isEqualTo(ExitStatus.killed(9));
        assertThat(p.onExit().get(30, TimeUnit.SECONDS)).isEqualTo(ExitStatus.killed(9));
        assertThatThrownBy(() -> c.exec(ExecSpec.of("/bin/probe", "true"))).isInstanceOf(ContainerException.class)
                .hasMessage("exec: container " + c.id() + " is not running (status exited)");
        p.close();
        c.close();
    }

    @Test
    void anExecdProcessIsHeldToTheContainersSeccompFilterFromThisRuntimeAndAnother() throws Exception {
        try (Container c = sleeper(sleeping());
             ContainerRuntime other = ContainerRuntime.builder().stateRoot(stateRoot)
                     .storageRoot(tmp.resolve("storage")).build()) {
            // the probe exits 1 when its syscall fails
            assertThat(run(c, exec("status", "--", "syscall", "keyctl")).stdout()).contains("Seccomp:\t2")
                    .contains("keyctl: Operation not permitted");
            try (ExecProcess p = other.exec(c.id(), exec("status", "--", "syscall", "keyctl").build())) {
                assertThat(read(p.stdout())).contains("Seccomp:\t2").contains("keyctl: Operation not permitted");
                assertThat(p.onExit().get(30, TimeUnit.SECONDS)).isEqualTo(ExitStatus.exited(1));
            }
        }
        try (Container c = sleeper(sleeping().seccomp(Seccomp.unconfined()))) {
            assertThat(out(c, "status")).contains("Seccomp:\t0");
        }
    }

    @Test
    void anotherRuntimeOnTheStateRootExecsIntoTheContainer() throws Exception {
        try (Container c = sleeper(sleeping().hostname("shared").env("X", "1"));
             ContainerRuntime other = ContainerRuntime.builder().stateRoot(stateRoot)
                     .storageRoot(tmp.resolve("storage")).build()) {
            try (ExecProcess p = other.exec(c.id(), exec("hostname", "--", "env").build())) {
                String text = read(p.stdout());
                assertThat(p.onExit().get(30, TimeUnit.SECONDS)).isEqualTo(ExitStatus.exited(0));
                assertThat(text.lines().toList()).startsWith("shared").contains("X=1");
            }
            assertThatThrownBy(() -> other.exec("no-such-one", ExecSpec.of("true")))
                    .isInstanceOf(ContainerException.class).hasMessage("no such container: no-such-one");
        }
    }

    @Test
    void aRecycledPidIsNeverEntered() throws Exception {
        Process unrelated = new ProcessBuilder("sleep", "60").start();
        try (Container c = sleeper(sleeping())) {
            // the state of a container whose init's pid now belongs to an unrelated process
            Path fake = stateRoot.resolve("recycled");
            Files.createDirectory(fake);
            try {
                String state = Files.readString(stateRoot.resolve(c.id()).resolve("state.json"))
                        .replace("\"id\":\"" + c.id() + "\"", "\"id\":\"recycled\"")
                        .replaceFirst("\"pid\":\\d+", "\"pid\":" + unrelated.pid());
                Files.writeString(fake.resolve("state.json"), state);
                // not reconciled: this test's forged state has no owner, and a reconcile would remove it
                try (ContainerRuntime other = ContainerRuntime.builder().stateRoot(stateRoot)
                        .storageRoot(tmp.resolve("storage")).reconcile(false).build()) {
                    // a container whose own process is not exec'd yet has no exec profile: nothing enters it
                    assertThatThrownBy(() -> other.exec("recycled", ExecSpec.of("/bin/probe", "true")))
                            .isInstanceOf(ContainerException.class)
                            .hasMessageStartingWith("exec: container recycled is still starting (no ");
                    Files.copy(stateRoot.resolve(c.id()).resolve("exec.json"), fake.resolve("exec.json"));
                    assertThatThrownBy(() -> other.exec("recycled", ExecSpec.of("/bin/probe", "true")))
                            .isInstanceOf(ContainerException.class)
                            .hasMessage("exec: container recycled is not running (its init, pid " + unrelated.pid()
                                    + ", is gone) (the pid now belongs to another process)");
                }
                assertThat(unrelated.children().count()).isZero();
            } finally {
                try (Stream<Path> s = Files.list(fake)) {
                    for (Path f : s.toList()) {
                        Files.delete(f);
                    }
                }
                Files.delete(fake);
            }
        } finally {
            unrelated.destroyForcibly().waitFor();
        }
    }

    /**
     * A hostile process in the container watches every process that appears, and tries to read
     * its fds, cwd and root while execs enter: it must never see a host fd (the init's pidfd, a
     * cgroup file, the control socket) or a host directory. The entering process is non-dumpable
     * until its exec, and holds nothing of the host by then.
     */
    @Test
    void aHostileContainerReachesNothingOfTheHostThroughAnEnteringProcess() throws Exception {
        // no stdio of the JVM in the container: the snooper would read whatever the JVM's stderr is
        try (Container c = sleeper(sleeping().stderr(Stdio.discard()))) {
            try (ExecProcess snoop = c.exec(exec("snoop", "4").stderr(Stdio.discard()).build())) {
                CompletableFuture<String> seen = CompletableFuture.supplyAsync(() -> read(snoop.stdout()));
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(3);
                int execs = 0;
                while (System.nanoTime() < deadline) {
                    run(c, exec("echo").stderr(Stdio.discard()));
                    execs++;
                }
                assertThat(snoop.onExit().get(30, TimeUnit.SECONDS)).isEqualTo(ExitStatus.exited(0));
                List<String> lines = seen.get(10, TimeUnit.SECONDS).lines().toList();
                assertThat(execs).isPositive();
                assertThat(lines).last().asString().startsWith("tries ");
                // what it could read: the sleeper's and exec'd probes' stdio (Stdio.discard is the /dev/null the
                // JVM opened, named by its host path: /host/dev/null in the v2 VM, whose JVM runs in a chroot),
                // their cwd and root: "/"
                for (String l : lines.subList(0, lines.size() - 1)) {
                    assertThat(l).matches("(fd ((/host)?/dev/null|pipe:\\[\\d+\\]|/dev/pts/\\d+))|(cwd /)|(root /)");
                }
            }
        }
    }

    @Test
    void execsRunTheirFdsClosedButStdio() throws Exception {
        try (Container c = sleeper(sleeping())) {
            List<String> fds = out(c, "fds").lines().toList();
            assertThat(fds).hasSize(3);
            assertThat(fds.get(0)).matches("0 (/host)?/dev/null"); // the JVM's, named by its host path
            assertThat(fds.get(1)).startsWith("1 pipe:");
        }
    }

    /**
     * runc's CVE-2024-21626: a host directory fd leaked into the entering process became its working
     * directory through /proc/self/fd/N. Here no fd of the host is open by the time of chdir or
     * exec: every such working directory and program fails, naming the step.
     */
    @Test
    void noFdOfTheHostServesAsWorkingDirectoryOrProgram() throws Exception {
        try (Container c = sleeper(sleeping())) {
            for (int fd = 3; fd <= 12; fd++) {
                String path = "/proc/self/fd/" + fd;
                assertThatThrownBy(() -> c.exec(exec("pwd").workingDir(path).build())).as(path)
                        .isInstanceOf(ContainerStartException.class).hasMessageContaining("chdir(" + path + "): ");
                assertThatThrownBy(() -> c.exec(ExecSpec.builder().command(path).stdout(Stdio.discard()).build()))
                        .as(path).isInstanceOf(ContainerStartException.class).hasMessageContaining("exec(" + path + "): ");
            }
        }
    }

    /** Started, failed and killed execs leave no fd open in the JVM, and no process behind. */
    @Test
    void execsLeaveNoFdBehind() throws Exception {
        try (Container c = sleeper(sleeping())) {
            out(c, "echo"); // the first exec may open what the JVM keeps (the callback pool, class files)
            java.util.Set<String> before = openFds();
            for (int i = 0; i < 10; i++) {
                out(c, "echo", "x");
                assertThatThrownBy(() -> c.exec(ExecSpec.of("nope"))).isInstanceOf(ContainerStartException.class);
                try (ExecProcess p = c.exec(exec("stdin").stdin(Stdio.pipe()).stderr(Stdio.pipe()).build())) {
                    p.kill();
                    p.onExit().get(30, TimeUnit.SECONDS);
                }
                try (ExecProcess p = c.exec(ExecSpec.builder().command("/bin/probe", "tty").tty(true).build())) {
                    read(p.stdout());
                    p.onExit().get(30, TimeUnit.SECONDS);
                }
            }
            assertThat(openFds()).isEqualTo(before);
            assertThat(out(c, "ps").lines().toList()).hasSize(3);
        }
    }

    @Test
    void aPausedContainerRefusesExecsUntilResumed() throws Exception {
        try (Container c = sleeper(sleeping())) {
            c.pause();
            try {
                assertThatThrownBy(() -> c.exec(ExecSpec.of("/bin/probe", "echo"))).isInstanceOf(ContainerException.class)
                        .hasMessage("exec: container " + c.id() + " is paused; resume it first");
            } finally {
                c.resume();
            }
            assertThat(out(c, "echo", "resumed")).isEqualTo("resumed\n");
        }
    }

    @Test
    void waitForReturnsOnceItEnded() throws Exception {
        try (Container c = sleeper(sleeping()); ExecProcess p = c.exec(exec("sleep", "0.2").build())) {
            assertThat(p.waitFor(Duration.ofSeconds(30))).contains(ExitStatus.exited(0));
        }
    }
}
