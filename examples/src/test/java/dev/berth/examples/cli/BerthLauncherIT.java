package dev.berth.examples.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.examples.testing.RequiresRoot;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The executable examples/berth, as a user runs it. */
@RequiresRoot
class BerthLauncherIT {
    private static final String ROOTFS = System.getProperty("berth.test.rootfs");

    record Outcome(int code, String out, String err) {}

    private static Outcome berth(String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>();
        cmd.add(System.getProperty("berth.launcher"));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectInput(ProcessBuilder.Redirect.PIPE);
        Process p = pb.start();
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        return new Outcome(p.exitValue(), out, err);
    }

    @Test
    void runsTheMainJobWithStdioAttached() throws Exception {
        Outcome o = berth("run", "--rootfs", ROOTFS, "--hostname", "demo", "-e", "X=1", "--", "probe", "hello");
        assertThat(o.code()).isZero();
        assertThat(o.out()).contains("hello from a berth container", "hostname: demo", "processes visible: 2");
    }

    @Test
    void optionsReachTheContainer() throws Exception {
        assertThat(berth("run", "--rootfs", ROOTFS, "-e", "X=hello world", "probe", "env").out()).contains("X=hello world");
        assertThat(berth("run", "--rootfs", ROOTFS, "--user", "alice:staff", "probe", "id").out())
                .isEqualTo("uid=1000 gid=50 euid=1000 egid=50\n");
        assertThat(berth("run", "--rootfs", ROOTFS, "--workdir", "/home/alice", "probe", "pwd").out()).isEqualTo("/home/alice\n");
        assertThat(berth("run", "--rootfs", ROOTFS, "--ulimit", "nofile=64:128", "probe", "cat", "/proc/self/limits").out())
                .containsPattern("Max open files\\s+64\\s+128");
    }

    @Test
    void exitCodesFollowDocker() throws Exception {
        assertThat(berth("run", "--rootfs", ROOTFS, "probe", "exit", "42").code()).isEqualTo(42);
        assertThat(berth("run", "--rootfs", ROOTFS, "probe", "kill-self", "9").code()).isEqualTo(137);
        Outcome notFound = berth("run", "--rootfs", ROOTFS, "/bin/nope");
        assertThat(notFound.code()).isEqualTo(127);
        assertThat(notFound.err()).contains("exec(/bin/nope): No such file or directory");
        assertThat(berth("run", "--rootfs", ROOTFS, "/etc/passwd").code()).isEqualTo(126);
        Outcome noRoot = berth("run", "--rootfs", "/no/such/root", "true");
        assertThat(noRoot.code()).isEqualTo(125);
        assertThat(noRoot.err()).contains("/no/such/root");
        Outcome badWorkdir = berth("run", "--rootfs", ROOTFS, "-w", "/missing", "true");
        assertThat(badWorkdir.code()).isEqualTo(125);
        assertThat(badWorkdir.err()).contains("chdir(/missing): No such file or directory");
        Outcome usage = berth("run", "--rootfs", ROOTFS, "--bogus", "true");
        assertThat(usage.code()).isEqualTo(2);
        assertThat(usage.err()).contains("Unknown option: '--bogus'").contains("Usage: berth run");
    }

    @Test
    void signalsToTheLauncherReachTheContainer() throws Exception {
        Process p = new ProcessBuilder(System.getProperty("berth.launcher"), "run", "--rootfs", ROOTFS, "probe", "wait-signal")
                .redirectErrorStream(true).start();
        var out = new java.io.BufferedReader(new java.io.InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
        assertThat(out.readLine()).isEqualTo("ready");
        new ProcessBuilder("kill", "-TERM", Long.toString(p.pid())).start().waitFor();
        assertThat(out.readLine()).isEqualTo("got 15");
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).isEqualTo(115);
    }
}
