package dev.berth.core;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.core.internal.linux.LinuxSyscalls;
import dev.berth.core.internal.sys.Syscalls;
import dev.berth.core.testing.ContainerTestSupport;
import dev.berth.testing.RequiresRoot;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Exit codes, signals, PID 1 duties, stop/kill, stdio. */
@RequiresRoot
class LifecycleIT extends ContainerTestSupport {

    @ParameterizedTest
    @ValueSource(ints = {0, 1, 7, 42, 255})
    void exitCodesPropagate(int code) throws Exception {
        assertThat(run(probe("exit", Integer.toString(code))).status()).isEqualTo(ExitStatus.exited(code));
    }

    @ParameterizedTest
    @ValueSource(ints = {9, 11, 15, 6})
    void signalDeathsPropagate(int signal) throws Exception {
        ExitStatus s = run(probe("kill-self", Integer.toString(signal))).status();
        assertThat(s).isEqualTo(ExitStatus.killed(signal));
        assertThat(s.shellCode()).isEqualTo(128 + signal);
    }

    @Test
    void orphanedGrandchildrenAreReaped() throws Exception {
        assertThat(output("orphans", "100")).isEqualTo("zombies=0\n");
    }

    private static BufferedReader lines(Container c) {
        return new BufferedReader(new InputStreamReader(c.stdout(), StandardCharsets.UTF_8));
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 2, 3, 10, 12, 14, 15, 28})
    void catchableSignalsReachTheTarget(int signal) throws Exception {
        try (Container c = runtime.start(probe("wait-signal").build())) {
            BufferedReader out = lines(c);
            assertThat(out.readLine()).isEqualTo("ready");
            c.signal(signal);
            assertThat(out.readLine()).isEqualTo("got " + signal);
            assertThat(c.onExit().get(10, TimeUnit.SECONDS)).isEqualTo(ExitStatus.exited(100 + signal));
        }
    }

    @Test
    void stopIsGracefulWhenTheTargetHonoursSigterm() throws Exception {
        try (Container c = runtime.start(probe("wait-signal").build())) {
            assertThat(lines(c).readLine()).isEqualTo("ready");
            assertThat(c.stop(Duration.ofSeconds(10))).isEqualTo(ExitStatus.exited(115));
        }
    }

    @Test
    void stopEscalatesToSigkillAfterTheGracePeriod() throws Exception {
        try (Container c = runtime.start(probe("ignore", "15").build())) {
            assertThat(lines(c).readLine()).isEqualTo("ignoring 15");
            long t0 = System.nanoTime();
            assertThat(c.stop(Duration.ofMillis(300))).isEqualTo(ExitStatus.killed(9));
            assertThat(Duration.ofNanos(System.nanoTime() - t0)).isGreaterThanOrEqualTo(Duration.ofMillis(300));
        }
    }

    @Test
    void killEndsTheWholeContainer() throws Exception {
        Container c = runtime.start(probe("fork", "5").build());
        long init = c.pid();
        assertThat(Files.exists(Path.of("/proc/" + init))).isTrue();
        c.kill();
        assertThat(c.onExit().get(10, TimeUnit.SECONDS)).isEqualTo(ExitStatus.killed(9));
        assertThat(Files.exists(Path.of("/proc/" + init))).isFalse();
        assertThat(c.isRunning()).isFalse();
        c.close();
    }

    @Test
    void signallingAnEndedContainerHasNoEffect() throws Exception {
        Container c = runtime.start(probe("exit", "3").build());
        assertThat(c.onExit().get(10, TimeUnit.SECONDS)).isEqualTo(ExitStatus.exited(3));
        c.signal(15);
        c.kill();
        assertThat(c.onExit().join()).isEqualTo(ExitStatus.exited(3));
        c.close();
    }

    @Test
    void closeKillsARunningContainer() throws Exception {
        Container c = runtime.start(probe("sleep", "60").build());
        c.close();
        assertThat(c.onExit().isDone()).isTrue();
        assertThat(c.onExit().join()).isEqualTo(ExitStatus.killed(9));
        assertThat(runtime.containers()).doesNotContain(c);
    }

    @Test
    void stdinAndStdoutPipes() throws Exception {
        try (Container c = runtime.start(probe("stdin").stdin(Stdio.pipe()).build())) {
            try (OutputStream in = c.stdin()) {
                in.write("hello through the pipe\n".getBytes(StandardCharsets.UTF_8));
            }
            assertThat(new String(c.stdout().readAllBytes(), StandardCharsets.UTF_8)).isEqualTo("hello through the pipe\n");
            assertThat(c.onExit().get(10, TimeUnit.SECONDS)).isEqualTo(ExitStatus.exited(0));
        }
    }

    @Test
    void stdioToAndFromFiles() throws Exception {
        Path in = Files.writeString(tmp.resolve("in.txt"), "from a file\n");
        Path out = tmp.resolve("out.txt");
        try (Container c = runtime.start(probe("stdin").stdin(Stdio.file(in)).stdout(Stdio.file(out)).build())) {
            assertThat(c.onExit().get(10, TimeUnit.SECONDS)).isEqualTo(ExitStatus.exited(0));
        }
        assertThat(Files.readString(out)).isEqualTo("from a file\n");
        try (Container c = runtime.start(probe("echo", "more").stdout(Stdio.append(out)).build())) {
            c.onExit().get(10, TimeUnit.SECONDS);
        }
        assertThat(Files.readString(out)).isEqualTo("from a file\nmore\n");
        try (Container c = runtime.start(probe("echo", "gone").stdout(Stdio.discard()).build())) {
            assertThat(c.onExit().get(10, TimeUnit.SECONDS)).isEqualTo(ExitStatus.exited(0));
        }
    }

    /** Sixteen containers started from sixteen threads at once, all running at the same time. */
    @Test
    void manyContainersStartAndRunAtOnce() throws Exception {
        int n = 16;
        CyclicBarrier ready = new CyclicBarrier(n);
        ExecutorService pool = Executors.newFixedThreadPool(n);
        List<Future<Container>> started = new ArrayList<>();
        List<Container> all = new ArrayList<>();
        try {
            for (int i = 0; i < n; i++) {
                started.add(pool.submit(() -> {
                    ready.await(30, TimeUnit.SECONDS);
                    return runtime.start(probe("stdin").stdin(Stdio.pipe()).build());
                }));
            }
            for (Future<Container> f : started) {
                all.add(f.get(60, TimeUnit.SECONDS));
            }
            // each waits on its stdin: every one of them is running now
            assertThat(runtime.containers()).containsAll(all);
            assertThat(all).allMatch(Container::isRunning);
            assertThat(all.stream().map(Container::id).distinct()).hasSize(n);
            assertThat(all.stream().map(Container::pid).distinct()).hasSize(n);
            for (Container c : all) {
                c.stdin().close();
            }
            for (Container c : all) {
                assertThat(c.onExit().get(30, TimeUnit.SECONDS)).isEqualTo(ExitStatus.exited(0));
            }
        } finally {
            pool.shutdownNow();
            all.forEach(Container::close);
        }
    }

    /**
     * Two starts of one id at the same moment: exactly one runs, the other fails saying why, and
     * the loser's cleanup leaves the winner's cgroup and processes alone.
     */
    @Test
    void twoStartsOfOneIdAtOnceStartOneAndHarmNothing() throws Exception {
        for (int round = 0; round < 10; round++) {
            String id = "twin-" + round;
            CyclicBarrier ready = new CyclicBarrier(2);
            ExecutorService pool = Executors.newFixedThreadPool(2);
            List<Future<Container>> starts = new ArrayList<>();
            for (int i = 0; i < 2; i++) {
                starts.add(pool.submit(() -> {
                    ready.await(30, TimeUnit.SECONDS);
                    return runtime.start(id, probe("sleep", "30").build());
                }));
            }
            List<Container> won = new ArrayList<>();
            List<Throwable> lost = new ArrayList<>();
            for (Future<Container> f : starts) {
                try {
                    won.add(f.get(60, TimeUnit.SECONDS));
                } catch (ExecutionException e) {
                    lost.add(e.getCause());
                }
            }
            pool.shutdown();
            assertThat(won).hasSize(1);
            assertThat(lost).singleElement().isInstanceOf(ContainerException.class)
                    .extracting(Throwable::getMessage).isEqualTo("container " + id + ": already exists");
            try (Container c = won.get(0)) {
                assertThat(c.isRunning()).isTrue();
                assertThat(Files.exists(Path.of("/proc/" + c.pid()))).isTrue();
                runtime.cgroupDriver().ifPresent(d -> assertThat(d.list()).contains(id));
                c.kill();
            }
        }
    }

    @Test
    void stateFileFollowsTheContainerAndGoesAwayOnClose() throws Exception {
        Path state = stateRoot.resolve("stateful/state.json");
        try (Container c = runtime.start("stateful", probe("sleep", "30").build())) {
            String json = Files.readString(state);
            assertThat(json).contains("\"schema\":\"berth.state/v1\"", "\"id\":\"stateful\"",
                    "\"status\":\"running\"", "\"init\":{\"pid\":" + c.pid() + ",\"startTime\":", "\"monitor\":{\"pid\":",
                    "\"spec\":{\"version\":1,", "\"started\":", "\"restartCount\":0");
            assertThat(json).doesNotContain("\"startTime\":-1");
            assertThat(Files.getPosixFilePermissions(state.getParent()))
                    .containsExactlyInAnyOrder(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE,
                            PosixFilePermission.OWNER_EXECUTE);
            assertThat(Files.getPosixFilePermissions(state))
                    .containsExactlyInAnyOrder(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE);
            assertThat(c.status()).isEqualTo(ContainerStatus.RUNNING);
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> runtime.start("stateful", probe("true").build()))
                    .isInstanceOf(ContainerException.class).hasMessageContaining("already exists");
            c.kill();
            c.onExit().get(10, TimeUnit.SECONDS);
            // ended but not closed: the id stays taken, the state says how it ended
            assertThat(Files.readString(state)).contains("\"status\":\"exited\"", "\"signal\":9", "\"finished\":");
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> runtime.start("stateful", probe("true").build()))
                    .isInstanceOf(ContainerException.class).hasMessageContaining("already exists");
        }
        assertThat(Files.exists(stateRoot.resolve("stateful"))).isFalse();
        try (Container again = runtime.start("stateful", probe("exit", "0").build())) {
            assertThat(again.onExit().get(10, TimeUnit.SECONDS)).isEqualTo(ExitStatus.exited(0));
        }
    }

    @Test
    void theInitIsASealedMemfdTheContainerCannotRewrite() throws Exception {
        Syscalls sys = new LinuxSyscalls();
        try (Container c = runtime.start(probe("sleep", "30").build())) {
            Path exe = Path.of("/proc/" + c.pid() + "/exe");
            assertThat(Files.readSymbolicLink(exe).toString()).startsWith("/memfd:berth-init");
            int fd = sys.open(exe.toString(), Syscalls.O_RDONLY | Syscalls.O_CLOEXEC, 0);
            try {
                assertThat(sys.getSeals(fd)).as("seals on the init's own binary").isEqualTo(
                        Syscalls.F_SEAL_SEAL | Syscalls.F_SEAL_SHRINK | Syscalls.F_SEAL_GROW | Syscalls.F_SEAL_WRITE);
            } finally {
                sys.close(fd);
            }
            c.kill();
        }
        Result r = run(probe("write", "/proc/1/exe", "x"));
        assertThat(r.stdout()).startsWith("/proc/1/exe: ");
        assertThat(r.status()).isEqualTo(ExitStatus.exited(1));
    }

    /**
     * User code in an onExit() dependant runs off the runtime's threads: one that never returns,
     * and one that waits for another container's exit, stall neither that other container's exit
     * nor later starts.
     */
    @Test
    void onExitDependantsNeverStallTheRuntime() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        // the dependants are added while their containers still run (sleep 1 s), so that they run
        // where the runtime completes the futures, not on this thread
        try (Container blocker = runtime.start(probe("sleep", "1").build());
                Container waiter = runtime.start(probe("sleep", "1").build());
                Container other = runtime.start(probe("sleep", "1.5").build())) {
            CompletableFuture<Void> stuck = blocker.onExit().thenRun(() -> {
                try {
                    release.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            CompletableFuture<ExitStatus> chained = waiter.onExit().thenApply(s -> other.onExit().join());
            assertThat(blocker.isRunning()).as("dependants added before the exit").isTrue();
            assertThat(other.onExit().get(30, TimeUnit.SECONDS)).isEqualTo(ExitStatus.exited(0));
            assertThat(chained.get(30, TimeUnit.SECONDS)).isEqualTo(ExitStatus.exited(0));
            assertThat(run(probe("exit", "7")).status()).isEqualTo(ExitStatus.exited(7));
            assertThat(stuck).isNotDone();
            release.countDown();
            stuck.get(30, TimeUnit.SECONDS);
        } finally {
            release.countDown();
        }
    }

    /** A container sharing the host's PID namespace: kill() ends its processes too, not only its init. */
    @Test
    void killEndsEveryProcessOfAContainerInTheHostsPidNamespace() throws Exception {
        try (Container c = runtime.start(probe("family", "3").shareNamespace(Namespace.PID).build())) {
            BufferedReader out = new BufferedReader(new InputStreamReader(c.stdout(), StandardCharsets.UTF_8));
            List<Long> pids = new ArrayList<>();
            for (String line = out.readLine(); line != null && !line.equals("ready"); line = out.readLine()) {
                pids.add(Long.parseLong(line.substring("child ".length())));
            }
            assertThat(pids).hasSize(3).allMatch(p -> ProcessHandle.of(p).isPresent());
            c.kill();
            assertThat(c.onExit().get(30, TimeUnit.SECONDS).signal()).isEqualTo(9);
            for (long p : pids) {
                ProcessHandle.of(p).ifPresent(h -> h.onExit().orTimeout(30, TimeUnit.SECONDS).join());
                assertThat(ProcessHandle.of(p).map(ProcessHandle::isAlive)).as("pid " + p).isNotEqualTo(Optional.of(true));
            }
        }
    }

    @Test
    void runtimeCloseKillsItsContainers() throws Exception {
        ContainerRuntime other = ContainerRuntime.builder().stateRoot(tmp.resolve("other-state")).build();
        Container c = other.start(probe("sleep", "60").build());
        other.close();
        assertThat(c.onExit().getNow(null)).isEqualTo(ExitStatus.killed(9));
        assertThat(Files.exists(Path.of("/proc/" + c.pid()))).isFalse();
    }
}
