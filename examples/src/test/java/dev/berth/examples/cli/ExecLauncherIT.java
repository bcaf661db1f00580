package dev.berth.examples.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.examples.internal.linux.TestPty;
import dev.berth.testing.RequiresRoot;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code berth exec} into a container that another {@code berth run --name} process runs, found by
 * its name under the shared state root, as a user types it.
 */
@RequiresRoot
class ExecLauncherIT {
    private static final String ROOTFS = System.getProperty("berth.test.rootfs");
    @TempDir
    static Path tmp;
    private static String state;
    private static Process run;

    record Outcome(int code, String out, String err) {}

    private static Outcome berth(String input, String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>();
        cmd.add(System.getProperty("berth.launcher"));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).start();
        try (OutputStream in = p.getOutputStream()) {
            in.write(input.getBytes(StandardCharsets.UTF_8));
        }
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        return new Outcome(p.exitValue(), out, err);
    }

    private static Outcome exec(String... args) throws IOException, InterruptedException {
        List<String> a = new ArrayList<>(List.of("exec", "--state-root", state));
        a.addAll(List.of(args));
        return berth("", a.toArray(String[]::new));
    }

    @BeforeAll
    static void startAService() throws Exception {
        state = tmp.resolve("state").toString();
        run = new ProcessBuilder(System.getProperty("berth.launcher"), "run", "--state-root", state, "--name", "svc",
                "--hostname", "svc-host", "-e", "FROM_RUN=1", "-w", "/tmp", "--rootfs", ROOTFS, "probe", "sleep", "120")
                .redirectErrorStream(true).start();
        // the exec profile is written once the container's process has been exec'd
        Path ready = tmp.resolve("state/svc/exec.json");
        for (int i = 0; i < 1000 && !Files.exists(ready); i++) {
            Thread.sleep(20);
        }
        assertThat(ready).exists();
    }

    @AfterAll
    static void stopIt() throws Exception {
        run.destroy(); // SIGTERM: the launcher forwards it and the container ends
        assertThat(run.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(tmp.resolve("state/svc")).doesNotExist();
    }

    @Test
    void theCommandRunsInTheContainerWithItsOptions() throws Exception {
        Outcome o = exec("svc", "probe", "hostname", "--", "pwd", "--", "id");
        assertThat(o.code()).as(o.err()).isZero();
        assertThat(o.out()).isEqualTo("svc-host\n/tmp\nuid=0 gid=0 euid=0 egid=0\n");
        Outcome opts = exec("-u", "alice:staff", "-w", "/home/alice", "-e", "X=hello world", "svc",
                "probe", "id", "--", "pwd", "--", "env");
        assertThat(opts.code()).as(opts.err()).isZero();
        assertThat(opts.out().lines().toList()).startsWith("uid=1000 gid=50 euid=1000 egid=50", "/home/alice")
                .contains("X=hello world", "FROM_RUN=1", "HOME=/home/alice", "HOSTNAME=svc-host");
    }

    @Test
    void optionsEndAtTheContainerAndStdinAttachesWithI() throws Exception {
        Outcome o = exec("svc", "probe", "echo", "-u", "x", "--", "echo", "-e", "y");
        assertThat(o.out()).isEqualTo("-u x\n-e y\n");
        Outcome piped = berth("through stdin\n", "exec", "--state-root", state, "-i", "svc", "probe", "stdin");
        assertThat(piped.out()).isEqualTo("through stdin\n");
        Outcome closed = berth("not read\n", "exec", "--state-root", state, "svc", "probe", "stdin");
        assertThat(closed.out()).isEmpty();
    }

    @Test
    void exitCodesFollowDockerExec() throws Exception {
        assertThat(exec("svc", "probe", "exit", "42").code()).isEqualTo(42);
        assertThat(exec("svc", "probe", "kill-self", "9").code()).isEqualTo(137);
        Outcome notFound = exec("svc", "nope");
        assertThat(notFound.code()).isEqualTo(126);
        assertThat(notFound.err()).isEqualTo("berth: exec nope in container svc: exec(nope): No such file or directory\n");
        Outcome badDir = exec("-w", "/missing", "svc", "probe", "pwd");
        assertThat(badDir.code()).isEqualTo(126);
        assertThat(badDir.err()).contains("chdir(/missing): No such file or directory");
        Outcome noContainer = exec("nosuch", "probe", "true");
        assertThat(noContainer.code()).isEqualTo(1);
        assertThat(noContainer.err()).isEqualTo("berth: no such container: nosuch (see 'berth exec --help')\n");
        Outcome usage = exec("svc");
        assertThat(usage.code()).isEqualTo(125);
        assertThat(usage.err()).isEqualTo("berth: Missing required parameter: 'CMD' (see 'berth exec --help')\n");
        Outcome help = berth("", "exec", "--help");
        assertThat(help.code()).isZero();
        assertThat(help.out()).contains("berth exec [OPTIONS] CONTAINER CMD [ARG...]", "--workdir");
    }

    /** {@code berth exec -it} on a real pty, as a login shell's foreground job: the command gets a pty of its own. */
    @Test
    void withTAndITheCommandGetsATerminalOfItsOwnSizedAsTheCallers() throws Exception {
        dev.berth.testing.Preconditions.requireTool("setsid", "util-linux");
        try (TestPty pty = TestPty.open(120, 40)) {
            java.io.File tty = pty.slave().toFile();
            Process p = new ProcessBuilder("setsid", "--ctty", System.getProperty("berth.launcher"), "exec",
                    "--state-root", state, "-it", "svc", "probe", "tty", "--", "winsize", "--", "ctty")
                    .redirectInput(tty).redirectOutput(tty).redirectError(tty).start();
            assertThat(p.waitFor(60, TimeUnit.SECONDS)).as("the screen shows: %s", pty.screen()).isTrue();
            assertThat(p.exitValue()).as("the screen shows: %s", pty.screen()).isZero();
            assertThat(pty.screen()).containsPattern("/dev/pts/\\d+\r\n40 120\r\nctty: this session's, foreground\r\n");
        }
    }
}
