package dev.berth.examples.cli;

import static dev.berth.examples.cli.InJvmBerth.run;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.core.ContainerSpec;
import dev.berth.core.HealthCheck;
import dev.berth.core.RestartPolicy;
import dev.berth.core.UnhealthyAction;
import java.time.Duration;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** {@code berth run}'s restart and health flags, as docker and podman spell them, and their errors. */
class SupervisionFlagsTest {

    private static RunCommand parsed(String... args) {
        RunCommand run = new RunCommand();
        new CommandLine(run).setStopAtPositional(true).parseArgs(args); // as BerthCli sets it
        return run;
    }

    private static ContainerSpec spec(String... args) {
        return parsed(args).toSpec();
    }

    @Test
    void durationsInDockersSpelling() {
        assertThat(HumanTime.goDuration("30s")).isEqualTo(Duration.ofSeconds(30));
        assertThat(HumanTime.goDuration("1m30s")).isEqualTo(Duration.ofSeconds(90));
        assertThat(HumanTime.goDuration("500ms")).isEqualTo(Duration.ofMillis(500));
        assertThat(HumanTime.goDuration("1.5h")).isEqualTo(Duration.ofMinutes(90));
        assertThat(HumanTime.goDuration("1h2m3s4ms5us6ns")).isEqualTo(Duration.ofHours(1).plusMinutes(2).plusSeconds(3)
                .plusMillis(4).plusNanos(5006));
        assertThat(HumanTime.goDuration(".5s")).isEqualTo(Duration.ofMillis(500));
        assertThat(HumanTime.goDuration("2µs")).isEqualTo(Duration.ofNanos(2000));
        assertThat(HumanTime.goDuration("0")).isZero();
        assertThat(HumanTime.goDuration("-1s")).isEqualTo(Duration.ofSeconds(-1));
        for (String bad : new String[] {"", "30", "1 m", "s", "1d", "1m30", "1.2.3s", "--1s", "1s ", "1S"}) {
            if (bad.equals("1s ")) {
                assertThat(HumanTime.goDuration(bad)).as("surrounding blanks are dropped").isEqualTo(Duration.ofSeconds(1));
                continue;
            }
            assertThatThrownBy(() -> HumanTime.goDuration(bad)).as(bad).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("is not a duration (e.g. 30s, 1m30s, 500ms)");
        }
        assertThatThrownBy(() -> HumanTime.goDuration("9999999999h")).hasMessageContaining("too long");
    }

    @Test
    void restartPoliciesAsDockerSpellsThem() {
        assertThat(spec("--rootfs", "/r", "true").restart()).isEqualTo(RestartPolicy.no());
        assertThat(spec("--restart", "no", "--rootfs", "/r", "true").restart()).isEqualTo(RestartPolicy.no());
        assertThat(spec("--restart", "always", "--rootfs", "/r", "true").restart()).isEqualTo(RestartPolicy.always());
        assertThat(spec("--restart", "unless-stopped", "--rootfs", "/r", "true").restart())
                .isEqualTo(RestartPolicy.unlessStopped());
        assertThat(spec("--restart", "on-failure", "--rootfs", "/r", "true").restart()).isEqualTo(RestartPolicy.onFailure());
        assertThat(spec("--restart", "on-failure:3", "-d", "--rootfs", "/r", "true").restart())
                .isEqualTo(RestartPolicy.onFailure(3));
        assertThat(run("run", "--restart", "sometimes", "--rootfs", "/r", "true")).containsExactly("125",
                "berth: --restart: unknown policy \"sometimes\" (no, on-failure[:max-retries], always, unless-stopped)"
                        + " (see 'berth run --help')\n");
        assertThat(run("run", "--restart", "always:3", "--rootfs", "/r", "true")[1])
                .startsWith("berth: --restart: \"always:3\": only on-failure takes a max-retries count");
        assertThat(run("run", "--restart", "on-failure:-1", "--rootfs", "/r", "true")[1])
                .startsWith("berth: --restart: \"on-failure:-1\": max-retries must be a non-negative number");
        assertThat(run("run", "--restart", "on-failure:x", "--rootfs", "/r", "true")[0]).isEqualTo("125");
    }

    @Test
    void restartWithRmConflictsAsInDocker() {
        assertThat(run("run", "-d", "--rm", "--restart", "always", "--rootfs", "/r", "true"))
                .containsExactly("125", "berth: Conflicting options: --restart and --rm (see 'berth run --help')\n");
        assertThat(run("run", "--rm", "--restart", "on-failure:2", "--rootfs", "/r", "true")[1])
                .startsWith("berth: Conflicting options: --restart and --rm");
        assertThat(spec("-d", "--rm", "--restart", "no", "--rootfs", "/r", "true").autoRemove())
                .as("--restart no is no restart: docker allows it with --rm").isTrue();
    }

    @Test
    void healthCmdIsAShellCommandOrAJsonArray() {
        HealthCheck shell = spec("--health-cmd", "test -f /tmp/ok && echo 'ok'", "--rootfs", "/r", "true")
                .healthCheck().orElseThrow();
        assertThat(shell.kind()).isEqualTo(HealthCheck.Kind.SHELL);
        assertThat(shell.command()).containsExactly("/bin/sh", "-c", "test -f /tmp/ok && echo 'ok'");
        assertThat(shell.interval()).as("docker's defaults").isEqualTo(Duration.ofSeconds(30));
        assertThat(shell.timeout()).isEqualTo(Duration.ofSeconds(30));
        assertThat(shell.retries()).isEqualTo(3);
        assertThat(shell.startPeriod()).isZero();

        HealthCheck exec = spec("--health-cmd", "[\"CMD\", \"test\", \"-f\", \"/tmp/a b\"]", "--rootfs", "/r", "true")
                .healthCheck().orElseThrow();
        assertThat(exec.kind()).isEqualTo(HealthCheck.Kind.EXEC);
        assertThat(exec.command()).containsExactly("test", "-f", "/tmp/a b");
        assertThat(spec("--health-cmd", "[\"CMD-SHELL\", \"exit 0\"]", "--rootfs", "/r", "true").healthCheck()
                .orElseThrow().command()).containsExactly("/bin/sh", "-c", "exit 0");
        assertThat(spec("--health-cmd", "[\"curl\", \"-f\", \"http://localhost\"]", "--rootfs", "/r", "true")
                .healthCheck().orElseThrow().command()).as("podman's plain argv").containsExactly("curl", "-f",
                        "http://localhost");
        ContainerSpec none = spec("--health-cmd", "[\"NONE\"]", "--rootfs", "/r", "true");
        assertThat(none.healthCheck()).isEmpty();
        assertThat(none.healthCheckDisabled()).isTrue();

        for (String[] bad : new String[][] {
            {"", "berth: --health-cmd: must not be empty"},
            {"[\"CMD\"]", "berth: --health-cmd: [\"CMD\", ...] needs a command after CMD"},
            {"[]", "berth: --health-cmd: [] has no command"},
            {"[\"CMD\", 1]", "berth: --health-cmd: [\"CMD\", 1] is not a JSON array of strings (element 1 is not a string)"},
            {"[\"CMD\", \"x\"", "berth: --health-cmd: [\"CMD\", \"x\" is not a JSON array of strings ("},
            {"[\"CMD-SHELL\", \"a\", \"b\"]", "berth: --health-cmd: [\"CMD-SHELL\", TEXT] takes one command text, got 2"},
            {"[\"NONE\", \"x\"]", "berth: --health-cmd: [\"NONE\"] takes nothing after NONE"},
            {"[\"CMD\", \"a\\u0000b\"]", "berth: --health-cmd: must be a non-empty argv without NUL bytes"}}) {
            String[] r = run("run", "--health-cmd", bad[0], "--rootfs", "/r", "true");
            assertThat(r[0]).as(bad[0]).isEqualTo("125");
            assertThat(r[1]).as(bad[0]).startsWith(bad[1]).endsWith("(see 'berth run --help')\n").hasLineCount(1);
        }
    }

    @Test
    void healthTimingsInDockersSpelling() {
        HealthCheck h = spec("--health-cmd", "true", "--health-interval", "1s", "--health-timeout", "500ms",
                "--health-retries", "5", "--health-start-period", "1m30s", "--rootfs", "/r", "true").healthCheck()
                .orElseThrow();
        assertThat(h.interval()).isEqualTo(Duration.ofSeconds(1));
        assertThat(h.timeout()).isEqualTo(Duration.ofMillis(500));
        assertThat(h.retries()).isEqualTo(5);
        assertThat(h.startPeriod()).isEqualTo(Duration.ofSeconds(90));
        HealthCheck zeros = spec("--health-cmd", "true", "--health-interval", "0", "--health-timeout", "0s",
                "--health-retries", "0", "--health-start-period", "0", "--rootfs", "/r", "true").healthCheck().orElseThrow();
        assertThat(zeros.interval()).as("0 is docker's default").isEqualTo(HealthCheck.DEFAULT_INTERVAL);
        assertThat(zeros.timeout()).isEqualTo(HealthCheck.DEFAULT_TIMEOUT);
        assertThat(zeros.retries()).isEqualTo(HealthCheck.DEFAULT_RETRIES);

        for (String[] bad : new String[][] {
            {"--health-interval", "30", "berth: --health-interval: \"30\" is not a duration (e.g. 30s, 1m30s, 500ms)"},
            {"--health-interval", "-1s", "berth: --health-interval: cannot be negative, got -1s"},
            {"--health-timeout", "10us", "berth: --health-timeout: must be at least 1ms, got 10us"},
            {"--health-start-period", "soon", "berth: --health-start-period: \"soon\" is not a duration"},
            {"--health-retries", "three", "berth: --health-retries: \"three\" is not a number"},
            {"--health-retries", "-2", "berth: --health-retries: cannot be negative, got -2"}}) {
            String[] r = run("run", "--health-cmd", "true", bad[0], bad[1], "--rootfs", "/r", "true");
            assertThat(r[0]).as(bad[1]).isEqualTo("125");
            assertThat(r[1]).as(bad[1]).startsWith(bad[2]).endsWith("(see 'berth run --help')\n").hasLineCount(1);
        }
    }

    @Test
    void timingsAloneChangeTheImagesOwnCheck() {
        RunCommand run = parsed("--health-interval", "2s", "--health-retries", "7", "img");
        run.imageHealthCheck = Optional.of(HealthCheck.builder().command("probe").interval(Duration.ofMinutes(1))
                .timeout(Duration.ofSeconds(9)).build());
        HealthCheck h = run.toSpec().healthCheck().orElseThrow();
        assertThat(h.command()).containsExactly("probe");
        assertThat(h.interval()).isEqualTo(Duration.ofSeconds(2));
        assertThat(h.timeout()).as("the image's, not overridden").isEqualTo(Duration.ofSeconds(9));
        assertThat(h.retries()).isEqualTo(7);
        assertThatThrownBy(() -> parsed("--health-timeout", "2s", "img").toSpec())
                .hasMessage("--health-timeout: there is no health check to apply it to (give --health-cmd; the image has"
                        + " no HEALTHCHECK)");
        assertThat(run("run", "--health-interval", "2s", "--rootfs", "/r", "true")[1]).isEqualTo("berth:"
                + " --health-interval: there is no health check to apply it to (give --health-cmd; a root directory has no"
                + " HEALTHCHECK) (see 'berth run --help')\n");
    }

    @Test
    void noHealthcheckDisablesTheImagesAndConflictsWithHealthFlags() {
        ContainerSpec s = spec("--no-healthcheck", "img");
        assertThat(s.healthCheckDisabled()).isTrue();
        assertThat(s.healthCheck()).isEmpty();
        assertThat(spec("img").healthCheckDisabled()).as("by default the image's check applies").isFalse();
        assertThat(run("run", "--no-healthcheck", "--health-cmd", "true", "--rootfs", "/r", "true")).containsExactly(
                "125", "berth: Conflicting options: --no-healthcheck and --health-* (see 'berth run --help')\n");
        assertThat(run("run", "--no-healthcheck", "--health-retries", "2", "--rootfs", "/r", "true")[1])
                .startsWith("berth: Conflicting options: --no-healthcheck and --health-*");
        assertThat(run("run", "--health-cmd", "[\"NONE\"]", "--health-interval", "1s", "--rootfs", "/r", "true")[1])
                .startsWith("berth: Conflicting options: --health-cmd [\"NONE\"] and --health-*");
    }

    @Test
    void healthOnFailureAsPodmanSpellsIt() {
        assertThat(spec("--rootfs", "/r", "true").onUnhealthy()).isEqualTo(UnhealthyAction.NONE);
        for (UnhealthyAction a : UnhealthyAction.values()) {
            assertThat(spec("--health-cmd", "true", "--health-on-failure", a.label(), "--rootfs", "/r", "true")
                    .onUnhealthy()).isEqualTo(a);
        }
        assertThat(run("run", "--health-on-failure", "explode", "--rootfs", "/r", "true")).containsExactly("125",
                "berth: --health-on-failure: unknown action \"explode\" (none, kill, restart, stop)"
                        + " (see 'berth run --help')\n");
    }

    @Test
    void theSupervisionFlagsSurviveTheStateFile() {
        // what berth ps and a later runtime read back: the spec as recorded
        ContainerSpec s = spec("-d", "--restart", "on-failure:3", "--health-cmd", "test -f /tmp/ok", "--health-interval",
                "1s", "--health-on-failure", "restart", "--rootfs", "/r", "true");
        ContainerSpec back = dev.berth.core.internal.state.SpecDocument.of(s).toSpec();
        assertThat(back.restart()).isEqualTo(RestartPolicy.onFailure(3));
        assertThat(back.healthCheck()).isEqualTo(s.healthCheck());
        assertThat(back.onUnhealthy()).isEqualTo(UnhealthyAction.RESTART);
        assertThat(dev.berth.core.internal.state.SpecDocument.of(spec("--no-healthcheck", "img")).toSpec()
                .healthCheckDisabled()).isTrue();
    }
}
