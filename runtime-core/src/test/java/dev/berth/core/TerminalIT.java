package dev.berth.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.cgroups.DeviceRule;
import dev.berth.cgroups.Resources;
import dev.berth.core.testing.ContainerTestSupport;
import dev.berth.core.testing.TestRootfs;
import dev.berth.testing.RequiresCgroups;
import dev.berth.testing.RequiresRoot;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * {@code tty(true)}: the container's own pseudo-terminal, seen from inside (its name, its
 * session, its console, its size) and driven from the JVM through the master's streams.
 */
@RequiresRoot
class TerminalIT extends ContainerTestSupport {

    private static ContainerSpec.Builder tty(String... args) {
        String[] argv = new String[args.length + 1];
        argv[0] = "/bin/probe";
        System.arraycopy(args, 0, argv, 1, args.length);
        return ContainerSpec.builder().rootfs(TestRootfs.path()).command(argv).tty(true);
    }

    /**
     * Everything the container writes to its terminal, read on a thread of its own: a terminal
     * must be read while the test writes to it, or the container blocks on a full buffer.
     */
    private static final class Screen {
        private final StringBuffer text = new StringBuffer();
        private final Thread reader;

        Screen(InputStream master) {
            reader = new Thread(() -> {
                byte[] b = new byte[4096];
                try {
                    for (int n; (n = master.read(b)) > 0; ) {
                        text.append(new String(b, 0, n, StandardCharsets.UTF_8));
                    }
                } catch (IOException e) {
                    text.append("\n[read failed: ").append(e.getMessage()).append(']');
                }
            }, "terminal-reader");
            reader.setDaemon(true);
            reader.start();
        }

        /** Waits (at most 30 s) until the output holds {@code expected}. */
        void await(String expected) throws InterruptedException {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (text.indexOf(expected) < 0) {
                assertThat(System.nanoTime()).as("waiting for \"%s\"; the terminal shows: %s", expected, text)
                        .isLessThan(deadline);
                Thread.sleep(10);
            }
        }

        /** The whole output, once the container has closed its end (end of file: EIO on the master). */
        String all() throws InterruptedException {
            reader.join(TimeUnit.SECONDS.toMillis(30));
            assertThat(reader.isAlive()).as("terminal still open; it shows: %s", text).isFalse();
            return text.toString();
        }
    }

    @Test
    void theContainerHasItsOwnPtyAsStdioControllingTerminalAndConsole() throws Exception {
        Result r = run(tty("tty", "--", "ctty", "--", "fds", "--", "stat", "/dev/console", "--", "stat", "/dev/pts/0"));
        assertThat(r.status()).isEqualTo(ExitStatus.exited(0));
        // a terminal ends lines with \r\n (ONLCR), which lines() takes apart
        assertThat(r.stdout()).contains("\r\n");
        assertThat(r.stdout().lines()).containsExactly(
                "/dev/pts/0",                         // the first pty of the container's own devpts instance
                "ctty: this session's, foreground",   // its controlling terminal, its process group in front
                "0 /dev/pts/0", "1 /dev/pts/0", "2 /dev/pts/0",
                "char 620 136:0",                     // /dev/console is the same pty (a bind mount)
                "char 620 136:0");
    }

    @Test
    void aReadOnlyRootAndTheHostsPidNamespaceKeepTheirTerminal() throws Exception {
        // /dev/console's mount point is made in the plan's /dev tmpfs, not on the (read-only) root
        assertThat(run(tty("tty", "--", "stat", "/dev/console").readonlyRootfs(true)).stdout().lines())
                .containsExactly("/dev/pts/0", "char 620 136:0");
        assertThat(run(tty("tty", "--", "ctty").shareNamespace(Namespace.PID)).stdout().lines())
                .containsExactly("/dev/pts/0", "ctty: this session's, foreground");
    }

    @Test
    void aNonRootUserOwnsItsTerminal() throws Exception {
        Result r = run(tty("owner", "/dev/pts/0", "--", "id").user("alice"));
        assertThat(r.stdout().lines()).containsExactly("1000:5", "uid=1000 gid=1000 euid=1000 egid=1000");
    }

    @Test
    void stderrGoesToTheTerminalToo() throws Exception {
        try (Container c = runtime.start(tty("no-such-command").build())) {
            assertThatThrownBy(c::stderr).isInstanceOf(IllegalStateException.class)
                    .hasMessageEndingWith("stderr goes to its terminal: read stdout()");
            Screen s = new Screen(c.stdout());
            assertThat(s.all()).isEqualTo("probe: unknown command no-such-command\r\n");
            assertThat(c.onExit().get(30, TimeUnit.SECONDS)).isEqualTo(ExitStatus.exited(2));
        }
    }

    @Test
    void noOutputIsLostWhenTheContainerEnds() throws Exception {
        // /etc/passwd and /etc/group, a few hundred bytes each, written right before the exit
        Path root = TestRootfs.path();
        String expected = (Files.readString(root.resolve("etc/passwd")) + Files.readString(root.resolve("etc/group")))
                .replace("\n", "\r\n");
        for (int i = 0; i < 20; i++) {
            assertThat(run(tty("cat", "/etc/passwd", "--", "cat", "/etc/group")).stdout()).isEqualTo(expected);
        }
    }

    @Test
    void theTerminalStartsAtTheSpecsSizeAndFollowsResizeTerminal() throws Exception {
        try (Container c = runtime.start(tty("winsize", "--", "wait-winch").consoleSize(100, 40).build())) {
            Screen s = new Screen(c.stdout());
            s.await("ready");
            c.resizeTerminal(132, 50); // SIGWINCH to the container's foreground process group, from the kernel
            assertThat(c.onExit().get(30, TimeUnit.SECONDS)).isEqualTo(ExitStatus.exited(0));
            assertThat(s.all().lines()).containsExactly("40 100", "ready", "50 132");
            c.resizeTerminal(80, 24); // ended: no effect, no error
        }
    }

    @Test
    void aCtrlCByteInterruptsTheContainersForegroundProcessGroup() throws Exception {
        try (Container c = runtime.start(tty("wait-int").build())) {
            Screen s = new Screen(c.stdout());
            s.await("ready");
            c.stdin().write(0x03); // what a terminal in raw mode passes on for Ctrl-C
            c.stdin().flush();
            assertThat(c.onExit().get(30, TimeUnit.SECONDS)).isEqualTo(ExitStatus.exited(102));
            // the line discipline sends SIGINT (SI_KERNEL) to the whole foreground group, the target and its
            // child (the init is in another session and forwards nothing here), and echoes ^C
            String screen = s.all();
            assertThat(screen).contains("^C");
            assertThat(screen.replace("^C", "").lines()).containsExactly("ready", "SIGINT from the terminal",
                    "child: SIGINT from the terminal");
        }
    }

    @Test
    void withoutTtyThereIsNoTerminalToResize() throws Exception {
        assertThat(run(probe("tty")).stdout()).isEqualTo("not a tty\n");
        try (Container c = runtime.start(probe("sleep", "30").build())) {
            assertThatThrownBy(() -> c.resizeTerminal(80, 24)).isInstanceOf(IllegalStateException.class)
                    .hasMessageEndingWith("has no terminal (spec: tty(true))");
        }
    }

    @Test
    @RequiresCgroups
    void aPtyTheDevicePolicyRefusesFailsTheStartNamingItAndLeavesNoFd() throws Exception {
        run(tty("true")); // warm up: the threads and libraries of a start are there before the baseline
        Set<String> before = openFds();
        ContainerSpec denied = tty("true").resources(Resources.builder()
                .deviceRule(DeviceRule.deny(DeviceRule.Type.CHAR, 5, 2, "rw")).build()).build();
        assertThatThrownBy(() -> runtime.start(denied)).isInstanceOf(ContainerStartException.class)
                .hasMessage("openpty(/dev/pts/ptmx): Operation not permitted");
        // the master was sent before the exec failed: the monitor never passes it on
        assertThatThrownBy(() -> runtime.start(tty().command("/bin/nope").build()))
                .isInstanceOf(ContainerStartException.class).hasMessage("exec(/bin/nope): No such file or directory");
        // and a container killed while its terminal is open, unread
        try (Container c = runtime.start(tty("wait-int").build())) {
            c.kill();
            assertThat(c.onExit().get(30, TimeUnit.SECONDS)).isEqualTo(ExitStatus.killed(9));
        }
        for (int i = 0; i < 20; i++) {
            assertThat(run(tty("tty")).stdout()).isEqualTo("/dev/pts/0\r\n");
        }
        assertThat(openFds()).isEqualTo(before);
    }

    @Test
    void closingTheStreamsEarlyLeavesResizeAndCloseWorking() throws Exception {
        try (Container c = runtime.start(tty("wait-winch").build())) {
            Screen s = new Screen(c.stdout());
            s.await("ready");
            c.stdin().close();
            c.resizeTerminal(81, 25);
            assertThat(c.onExit().get(30, TimeUnit.SECONDS)).isEqualTo(ExitStatus.exited(0));
            assertThat(s.all()).endsWith("25 81\r\n");
            assertThat(c.stop(Duration.ofSeconds(1))).isEqualTo(ExitStatus.exited(0));
        }
    }
}
