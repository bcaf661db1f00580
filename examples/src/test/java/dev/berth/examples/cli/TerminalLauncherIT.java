package dev.berth.examples.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.examples.internal.linux.TestPty;
import dev.berth.testing.Preconditions;
import dev.berth.testing.RequiresRoot;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * {@code berth run -t} / {@code -it} as a user at a terminal runs it: the launcher on a pty of
 * the host (its controlling terminal, its stdio) that the test drives as a terminal emulator
 * would, reading the screen, typing, resizing the window; and the caller's terminal settings
 * ({@code stty -g}) before, during and after.
 */
@RequiresRoot
class TerminalLauncherIT {
    private static final String ROOTFS = System.getProperty("berth.test.rootfs");
    private static final byte CTRL_C = 0x03;

    @RegisterExtension
    static final Launcher BERTH = new Launcher();

    @BeforeAll
    static void tools() {
        Preconditions.requireTool("setsid", "util-linux");
        Preconditions.requireTool("stty", "coreutils");
    }

    /** The launcher running on a pty of its own, as a login shell's job in the foreground. */
    private static final class Session implements AutoCloseable {
        final TestPty pty;
        final String before;
        final Process launcher;

        Session(int columns, int rows, String... args) throws IOException {
            pty = TestPty.open(columns, rows);
            before = settings();
            List<String> cmd = new ArrayList<>(List.of("setsid", "--ctty"));
            cmd.addAll(BERTH.command(args));
            File tty = pty.slave().toFile();
            // setsid: a session of its own whose controlling terminal is the pty (its stdin); the launcher
            // is exec'd in place, so this process is the launcher
            launcher = new ProcessBuilder(cmd).redirectInput(tty).redirectOutput(tty).redirectError(tty).start();
        }

        /** The pty's settings as {@code stty -g} prints them. */
        String settings() throws IOException {
            Process p = new ProcessBuilder("stty", "-g", "-F", pty.slave().toString()).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
            try {
                assertThat(p.waitFor()).as("stty: %s", out).isZero();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return out;
        }

        /** Waits (at most 60 s: the launcher is a JVM) until the screen shows {@code text}. */
        void await(String text) throws InterruptedException {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (!pty.screen().contains(text)) {
                assertThat(System.nanoTime()).as("waiting for \"%s\"; the screen shows: %s", text, pty.screen())
                        .isLessThan(deadline);
                assertThat(launcher.isAlive() || pty.screen().contains(text))
                        .as("launcher ended (%s) before \"%s\"; the screen shows: %s",
                                launcher.isAlive() ? "" : launcher.exitValue(), text, pty.screen()).isTrue();
                Thread.sleep(10);
            }
        }

        int exitCode() throws InterruptedException {
            assertThat(launcher.waitFor(60, TimeUnit.SECONDS)).as("the screen shows: %s", pty.screen()).isTrue();
            return launcher.exitValue();
        }

        /** The host pid of the container's init: the berth-init whose child is the probe the container runs. */
        long containerInit() {
            for (ProcessHandle h : launcher.descendants().toList()) {
                Optional<ProcessHandle> parent = h.parent();
                if (argv0(h.pid()).equals("probe") && parent.isPresent() && argv0(parent.get().pid()).equals("berth-init")) {
                    return parent.get().pid();
                }
            }
            throw new AssertionError("no container of the launcher runs probe: " + launcher.descendants()
                    .map(h -> h.pid() + " " + argv0(h.pid())).toList());
        }

        @Override
        public void close() throws InterruptedException {
            if (launcher.isAlive()) {
                launcher.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
            }
            pty.close();
        }
    }

    private static String argv0(long pid) {
        try {
            String cmdline = Files.readString(Path.of("/proc/" + pid + "/cmdline"), StandardCharsets.UTF_8);
            int nul = cmdline.indexOf('\0');
            return nul < 0 ? cmdline : cmdline.substring(0, nul);
        } catch (IOException e) {
            return ""; // ended meanwhile
        }
    }

    private static void kill(String signal, long pid) throws IOException, InterruptedException {
        assertThat(new ProcessBuilder("kill", "-" + signal, Long.toString(pid)).start().waitFor()).isZero();
    }

    @Test
    void theContainerGetsATerminalOfItsOwnSizedAsTheCallers() throws Exception {
        try (Session s = new Session(120, 40, "run", "-it", "--rootfs", ROOTFS, "probe", "tty", "--", "winsize", "--",
                "ctty")) {
            assertThat(s.exitCode()).isZero();
            assertThat(s.pty.screen()).contains("/dev/pts/0\r\n40 120\r\nctty: this session's, foreground\r\n");
            assertThat(s.settings()).isEqualTo(s.before);
        }
    }

    @Test
    void aResizeOfTheCallersTerminalReachesTheContainer() throws Exception {
        try (Session s = new Session(80, 24, "run", "-it", "--rootfs", ROOTFS, "probe", "wait-winch")) {
            s.await("ready");
            s.pty.resize(100, 30); // the window changed: SIGWINCH to the launcher, which resizes the container's
            s.await("30 100");
            assertThat(s.exitCode()).isZero();
        }
    }

    @Test
    void ctrlCReachesTheContainersForegroundProcessGroupAndTheTerminalIsRestored() throws Exception {
        try (Session s = new Session(80, 24, "run", "-it", "--rootfs", ROOTFS, "probe", "wait-int")) {
            s.await("ready");
            String raw = s.settings();
            assertThat(raw).as("raw mode while attached").isNotEqualTo(s.before);
            s.pty.type(CTRL_C); // a byte in raw mode, passed on: the container's terminal makes it SIGINT
            s.await("child: ");
            assertThat(s.exitCode()).isEqualTo(102);
            assertThat(s.pty.screen()).contains("SIGINT from the terminal\r\nchild: SIGINT from the terminal");
            assertThat(s.settings()).isEqualTo(s.before);
        }
    }

    @Test
    void withTtyAloneTheCallersTerminalStaysCookedAndCtrlCIsAForwardedSignal() throws Exception {
        try (Session s = new Session(80, 24, "run", "-t", "--rootfs", ROOTFS, "probe", "wait-int")) {
            s.await("ready");
            assertThat(s.settings()).isEqualTo(s.before);
            s.pty.type(CTRL_C); // the caller's terminal signals the launcher, which forwards SIGINT to the target
            s.await("child: ");
            assertThat(s.exitCode()).isEqualTo(102);
            assertThat(s.pty.screen()).contains("SIGINT from pid 1").contains("child: no SIGINT");
            assertThat(s.settings()).isEqualTo(s.before);
        }
    }

    /** {@code -it} on a container that waits, ended by {@code signal} to the process {@code target} picks. */
    private static void endedBy(String signal, java.util.function.ToLongFunction<Session> target, int exitCode)
            throws Exception {
        try (Session s = new Session(80, 24, "run", "-it", "--rootfs", ROOTFS, "probe", "wait-int")) {
            s.await("ready");
            assertThat(s.settings()).as("raw mode while attached").isNotEqualTo(s.before);
            kill(signal, target.applyAsLong(s));
            assertThat(s.exitCode()).isEqualTo(exitCode);
            assertThat(s.settings()).isEqualTo(s.before);
        }
    }

    @Test
    void theCallersTerminalIsRestoredWhenTheContainerIsKilled() throws Exception {
        endedBy("KILL", Session::containerInit, 137);
    }

    @Test
    void theCallersTerminalIsRestoredWhenTheLauncherIsTerminated() throws Exception {
        endedBy("TERM", s -> s.launcher.pid(), 143); // forwarded: the container ends, then the launcher
    }

    @Test
    void withoutATerminalOfItsOwnAContainerCannotTakeOrTypeIntoTheCallers() throws Exception {
        // With -i and no -t the container inherits the caller's terminal as fds 0-2, but its target runs in a session of its
        // own: the terminal is not its controlling terminal, and it cannot make it one (the terminal is
        // another session's: EPERM even for "steal", which needs CAP_SYS_ADMIN) nor push input into it.
        String tiocsti = tiocstiRefusal();
        try (Session s = new Session(80, 24, "run", "-i", "--rootfs", ROOTFS, "probe", "ctty", "--", "sctty", "--", "sctty", "1",
                "--", "sti", "--", "echo", "done")) {
            assertThat(s.exitCode()).isZero();
            assertThat(s.pty.screen()).contains("ctty: not this session's, not foreground",
                    "TIOCSCTTY: Operation not permitted", "TIOCSTI: " + tiocsti, "done");
            assertThat(s.pty.screen()).doesNotContain("TIOCSCTTY: ok", "TIOCSTI: ok", "fd 0: not a terminal");
            assertThat(s.settings()).isEqualTo(s.before);
        }
    }

    /**
     * TIOCSTI on a terminal that is not one's own: EPERM, or EIO before that where the host turned the
     * call off for all without CAP_SYS_ADMIN (Linux 6.2+, dev.tty.legacy_tiocsti = 0).
     */
    private static String tiocstiRefusal() throws IOException {
        Path legacy = Path.of("/proc/sys/dev/tty/legacy_tiocsti");
        return Files.exists(legacy) && Files.readString(legacy).trim().equals("0") ? "Input/output error"
                : "Operation not permitted";
    }
}
