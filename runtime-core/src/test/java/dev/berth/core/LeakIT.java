package dev.berth.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.core.internal.linux.LinuxSyscalls;
import dev.berth.core.internal.sys.Syscalls;
import dev.berth.core.testing.ContainerTestSupport;
import dev.berth.testing.RequiresRoot;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** Nothing leaks: fds, mounts, processes, state, whether a container ends or fails to start. */
@RequiresRoot
class LeakIT extends ContainerTestSupport {

    private static String mountTable() throws IOException {
        return Files.readString(Path.of("/proc/self/mountinfo"));
    }

    /** Children of every thread of this JVM: the monitors Berth spawned, if any are left. */
    private static List<String> children() throws IOException {
        List<String> out = new ArrayList<>();
        try (Stream<Path> tasks = Files.list(Path.of("/proc/self/task"))) {
            for (Path t : tasks.toList()) {
                try {
                    String c = Files.readString(t.resolve("children")).trim();
                    if (!c.isEmpty()) {
                        out.add(c);
                    }
                } catch (IOException e) {
                    // the thread ended meanwhile
                }
            }
        }
        return out;
    }

    /** What a container could leave behind on the host: the JVM's fds and the mount table. */
    private record HostSnapshot(Set<String> fds, String mounts) {
        /** Taken after close() returned: by then everything a container held is released, no waiting. */
        static HostSnapshot take() throws IOException {
            return new HostSnapshot(openFds(), mountTable());
        }

        /** Nothing changed, and no monitor, container or state of this runtime is left. */
        void assertUnchanged() throws IOException {
            HostSnapshot now = take();
            assertThat(now.fds()).isEqualTo(fds);
            assertThat(now.mounts()).isEqualTo(mounts);
            assertThat(children()).isEmpty();
            assertThat(runtime.containers()).isEmpty();
            try (Stream<Path> s = Files.list(stateRoot)) {
                assertThat(s.toList()).isEmpty();
            }
        }
    }

    @Test
    void nonCloexecFdsOfTheJvmNeverReachTheContainer() throws Exception {
        Syscalls sys = new LinuxSyscalls();
        List<Integer> leaky = new ArrayList<>();
        try {
            for (int i = 0; i < 50; i++) {
                leaky.add(sys.open("/etc/hostname", Syscalls.O_RDONLY, 0)); // deliberately without O_CLOEXEC
            }
            String fds = output("fds");
            assertThat(fds.lines().map(l -> l.split(" ")[0])).containsExactly("0", "1", "2");
        } finally {
            leaky.forEach(sys::close);
        }
    }

    @Test
    void twoHundredRunsLeaveFdsMountsAndProcessesUnchanged() throws Exception {
        ContainerSpec spec = ContainerSpec.builder().rootfs(dev.berth.core.testing.TestRootfs.path())
                .command("/bin/true").build();
        try (Container c = runtime.start(spec)) {
            c.onExit().join(); // warm up: the reactor and JNA are loaded before the baseline
        }
        HostSnapshot before = HostSnapshot.take();
        for (int i = 0; i < 200; i++) {
            try (Container c = runtime.start(spec)) {
                assertThat(c.onExit().join()).isEqualTo(ExitStatus.exited(0));
            }
        }
        before.assertUnchanged();
    }

    @Test
    void failedStartsNameTheStepAndLeaveNothingBehind() throws Exception {
        Path rootfs = dev.berth.core.testing.TestRootfs.path();
        try (Container c = runtime.start(probe("true").build())) {
            c.onExit().join();
        }
        HostSnapshot before = HostSnapshot.take();

        assertThatThrownBy(() -> runtime.start(probe("true").workingDir("/no/such/dir").build()))
                .isInstanceOf(ContainerStartException.class)
                .hasMessage("chdir(/no/such/dir): No such file or directory");
        assertThatThrownBy(() -> runtime.start(probe("true").user("mallory").build()))
                .isInstanceOf(ContainerStartException.class)
                .hasMessageStartingWith("user \"mallory\" (rootfs ")
                .hasMessageContaining("unable to find user mallory: no matching entries in")
                .hasMessageContaining("/etc/passwd");
        assertThatThrownBy(() -> runtime.start(probe("true").command("/bin/nope").build()))
                .isInstanceOf(ContainerStartException.class)
                .hasMessage("exec(/bin/nope): No such file or directory");
        assertThatThrownBy(() -> runtime.start(probe("true").command("/etc/passwd").build()))
                .isInstanceOf(ContainerStartException.class)
                .hasMessage("exec(/etc/passwd): Permission denied");
        assertThatThrownBy(() -> runtime.start(probe("true").rootfs(tmp.resolve("missing-root")).build()))
                .isInstanceOf(ContainerStartException.class)
                .hasMessageContaining(tmp.resolve("missing-root").toString());
        // A plan op deep in the mount phase: /dev in the root is a regular file, so mounting on it fails.
        Path bad = Files.createDirectories(tmp.resolve("bad-root"));
        Files.createDirectories(bad.resolve("bin"));
        Files.copy(rootfs.resolve("bin/probe"), bad.resolve("bin/probe"));
        Files.writeString(bad.resolve("dev"), "not a directory");
        assertThatThrownBy(() -> runtime.start(probe("true").rootfs(bad).build()))
                .isInstanceOf(ContainerStartException.class)
                .hasMessageMatching("(mount|mkdir)\\(/dev.*\\): Not a directory");
        // A symlinked /proc in the image is refused, not followed.
        Path sym = Files.createDirectories(tmp.resolve("symlinked-proc"));
        Files.createDirectories(sym.resolve("bin"));
        Files.copy(rootfs.resolve("bin/probe"), sym.resolve("bin/probe"));
        Files.createDirectories(sym.resolve("elsewhere"));
        Files.createSymbolicLink(sym.resolve("proc"), Path.of("elsewhere"));
        assertThatThrownBy(() -> runtime.start(probe("true").rootfs(sym).build()))
                .isInstanceOf(ContainerStartException.class)
                .hasMessageStartingWith("mount(/proc): ");

        before.assertUnchanged();
    }
}
