package dev.berth.examples.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.core.ContainerStartException;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class BerthCliTest {

    private static String[] run(String... args) {
        PrintStream saved = System.err;
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
        try {
            int code = BerthCli.execute(args);
            return new String[] {Integer.toString(code), err.toString(StandardCharsets.UTF_8)};
        } finally {
            System.setErr(saved);
        }
    }

    @Test
    void badArgumentsPrintOneLineAndUsageAndExit2() {
        String[] r = run("run", "--rootfs", "/r", "--ulimit", "nofiles=1", "true");
        assertThat(r[0]).isEqualTo("2");
        assertThat(r[1].lines().findFirst().orElseThrow()).startsWith("berth: --ulimit nofiles=1: rlimit: unknown resource");
        assertThat(r[1]).contains("Usage: berth run");
    }

    @Test
    void missingCommandIsAUsageError() {
        String[] r = run("run", "--rootfs", "/r");
        assertThat(r[0]).isEqualTo("2");
        assertThat(r[1]).startsWith("berth: Missing required parameter");
    }

    @Test
    void invalidSpecValuesAreUsageErrorsNamingTheField() {
        assertThat(run("run", "--rootfs", "/r", "-w", "relative", "true")[1]).startsWith("berth: workingDir:");
        assertThat(run("run", "--rootfs", "/r", "-e", "NOEQUALS", "true")[1]).startsWith("berth: --env: expected K=V");
        assertThat(run("run", "--rootfs", "/r", "--cap-add", "FLY", "true")[1]).startsWith("berth: --cap-add: capability");
        assertThat(run("run", "--rootfs", "/r", "--network", "bridge", "true")[1]).startsWith("berth: --network:");
        assertThat(run("run", "--rootfs", "/r", "--unknown", "true")[0]).isEqualTo("2");
    }

    @Test
    void startFailuresMapToDockerExitCodes() {
        assertThat(RunCommand.startFailureCode(new ContainerStartException("x", "exec", "nope", 2, null))).isEqualTo(127);
        assertThat(RunCommand.startFailureCode(new ContainerStartException("x", "exec", "/etc", 13, null))).isEqualTo(126);
        assertThat(RunCommand.startFailureCode(new ContainerStartException("x", "exec", "/x", 8, null))).isEqualTo(126);
        assertThat(RunCommand.startFailureCode(new ContainerStartException("x", "chdir", "/x", 2, null))).isEqualTo(125);
        assertThat(RunCommand.startFailureCode(new ContainerStartException("rootfs missing"))).isEqualTo(125);
    }
}
