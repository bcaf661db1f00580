package dev.berth.core;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.core.testing.ContainerTestSupport;
import dev.berth.core.testing.RequiresRoot;
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

    @Test
    void manyContainersRunAtOnce() throws Exception {
        List<Container> all = new ArrayList<>();
        try {
            for (int i = 0; i < 16; i++) {
                all.add(runtime.start(probe("sleep", "0.3").build()));
            }
            assertThat(runtime.containers()).hasSizeGreaterThanOrEqualTo(1);
            for (Container c : all) {
                assertThat(c.onExit().get(30, TimeUnit.SECONDS)).isEqualTo(ExitStatus.exited(0));
            }
        } finally {
            all.forEach(Container::close);
        }
        assertThat(all.stream().map(Container::id).distinct()).hasSize(16);
    }

    @Test
    void stateFileFollowsTheContainerAndGoesAwayOnClose() throws Exception {
        Path state = stateRoot.resolve("stateful/state.json");
        try (Container c = runtime.start("stateful", probe("sleep", "30").build())) {
            String json = Files.readString(state);
            assertThat(json).contains("\"id\":\"stateful\"", "\"status\":\"running\"", "\"pid\":" + c.pid(),
                    "\"pidStartTime\":", "\"monitorPid\":");
            assertThat(json).doesNotContain("\"pidStartTime\":-1", "\"monitorPid\":0");
            assertThat(Files.getPosixFilePermissions(state.getParent()))
                    .containsExactlyInAnyOrder(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE,
                            PosixFilePermission.OWNER_EXECUTE);
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
        try (Container c = runtime.start(probe("sleep", "30").build())) {
            String link = Files.readSymbolicLink(Path.of("/proc/" + c.pid() + "/exe")).toString();
            assertThat(link).startsWith("/memfd:berth-init");
            c.kill();
        }
        Result r = run(probe("write", "/proc/1/exe", "x"));
        assertThat(r.stdout()).startsWith("/proc/1/exe: ");
        assertThat(r.status()).isEqualTo(ExitStatus.exited(1));
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
