package dev.berth.examples.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.examples.cli.Launcher.Outcome;
import dev.berth.examples.internal.linux.TestPty;
import dev.berth.testing.RequiresRoot;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * {@code berth exec} into a container that another {@code berth run --name} process runs, found by
 * its name under the shared state root, as a user types it.
 */
@RequiresRoot
class ExecLauncherIT {
    private static final String ROOTFS = System.getProperty("berth.test.rootfs");
    @RegisterExtension
    static final Launcher BERTH = new Launcher();
    /** The service's name, of this run only. */
    private static final String SVC = BERTH.name("svc");
    private static Process run;

    private static Outcome berth(String input, String... args) throws IOException, InterruptedException {
        return BERTH.run(Map.of(), input, args);
    }

    private static Outcome exec(String... args) throws IOException, InterruptedException {
        List<String> a = new ArrayList<>(List.of("exec"));
        a.addAll(List.of(args));
        return berth("", a.toArray(String[]::new));
    }

    @BeforeAll
    static void startAService() throws Exception {
        run = new ProcessBuilder(BERTH.command("run", "--name", SVC, "--hostname", "svc-host", "-e", "FROM_RUN=1", "-w",
                "/tmp", "--rootfs", ROOTFS, "probe", "sleep", "120")).redirectErrorStream(true).start();
        // the exec profile is written once the container's process has been exec'd
        Path ready = BERTH.stateRoot().resolve(SVC).resolve("exec.json");
        for (int i = 0; i < 1000 && !Files.exists(ready); i++) {
            Thread.sleep(20);
        }
        assertThat(ready).exists();
    }

    @AfterAll
    static void stopIt() throws Exception {
        run.destroy(); // SIGTERM: the launcher forwards it and the container ends
        assertThat(run.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(BERTH.stateRoot().resolve(SVC)).doesNotExist();
    }

    @Test
    void theCommandRunsInTheContainerWithItsOptions() throws Exception {
        Outcome o = exec(SVC, "probe", "hostname", "--", "pwd", "--", "id");
        assertThat(o.code()).as(o.err()).isZero();
        assertThat(o.out()).isEqualTo("svc-host\n/tmp\nuid=0 gid=0 euid=0 egid=0\n");
        Outcome opts = exec("-u", "alice:staff", "-w", "/home/alice", "-e", "X=hello world", SVC,
                "probe", "id", "--", "pwd", "--", "env");
        assertThat(opts.code()).as(opts.err()).isZero();
        assertThat(opts.out().lines().toList()).startsWith("uid=1000 gid=50 euid=1000 egid=50", "/home/alice")
                .contains("X=hello world", "FROM_RUN=1", "HOME=/home/alice", "HOSTNAME=svc-host");
    }

    @Test
    void optionsEndAtTheContainerAndStdinAttachesWithI() throws Exception {
        Outcome o = exec(SVC, "probe", "echo", "-u", "x", "--", "echo", "-e", "y");
        assertThat(o.out()).isEqualTo("-u x\n-e y\n");
        Outcome piped = berth("through stdin\n", "exec", "-i", SVC, "probe", "stdin");
        assertThat(piped.out()).isEqualTo("through stdin\n");
        Outcome closed = berth("not read\n", "exec", SVC, "probe", "stdin");
        assertThat(closed.out()).isEmpty();
    }

    @Test
    void exitCodesFollowDockerExec() throws Exception {
        assertThat(exec(SVC, "probe", "exit", "42").code()).isEqualTo(42);
        assertThat(exec(SVC, "probe", "kill-self", "9").code()).isEqualTo(137);
        Outcome notFound = exec(SVC, "nope");
        assertThat(notFound.code()).isEqualTo(126);
        assertThat(notFound.err()).isEqualTo("berth: exec nope in container " + SVC + ": exec(nope): No such file or directory\n");
        Outcome badDir = exec("-w", "/missing", SVC, "probe", "pwd");
        assertThat(badDir.code()).isEqualTo(126);
        assertThat(badDir.err()).contains("chdir(/missing): No such file or directory");
        Outcome noContainer = exec("nosuch", "probe", "true");
        assertThat(noContainer.code()).isEqualTo(1);
        assertThat(noContainer.err()).isEqualTo("berth: no such container: nosuch (see 'berth exec --help')\n");
        Outcome usage = exec(SVC);
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
            List<String> cmd = new ArrayList<>(List.of("setsid", "--ctty"));
            cmd.addAll(BERTH.command("exec", "-it", SVC, "probe", "tty", "--", "winsize", "--", "ctty"));
            Process p = new ProcessBuilder(cmd)
                    .redirectInput(tty).redirectOutput(tty).redirectError(tty).start();
            assertThat(p.waitFor(60, TimeUnit.SECONDS)).as("the screen shows: %s", pty.screen()).isTrue();
            assertThat(p.exitValue()).as("the screen shows: %s", pty.screen()).isZero();
            assertThat(pty.screen()).containsPattern("/dev/pts/\\d+\r\n40 120\r\nctty: this session's, foreground\r\n");
        }
    }
}
