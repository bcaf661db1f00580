package dev.berth.examples.cli;

import static dev.berth.examples.cli.InJvmBerth.run;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.image.Platform;
import dev.berth.image.registry.Credentials;
import dev.berth.image.registry.PullOptions;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code --platform} and {@code --creds} of {@code berth pull} and {@code berth run}. */
class PullArgsTest {
    @TempDir Path tmp;

    @Test
    void credsSplitAtTheFirstColonAndWithoutAPasswordNeedATerminal() {
        Credentials c = PullCommand.credentials("robot:pa:ss", "registry.test", null);
        assertThat(c.username()).isEqualTo("robot");
        assertThat(c.secret()).isEqualTo("pa:ss");
        assertThat(PullCommand.credentials("robot:", "registry.test", null).secret()).isEmpty();
        assertThatThrownBy(() -> PullCommand.credentials("robot", "registry.test", null))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("--creds: no password after the user and no terminal to read it from; give USER:PASSWORD or use --authfile");
        assertThatThrownBy(() -> PullCommand.credentials(":hunter2", "registry.test", null))
                .hasMessage("--creds: expected USER[:PASSWORD], the user is empty");
    }

    @Test
    void pullOptionsCarryThePlatformAndTheCredentialsOfTheImagesRegistry() {
        PullOptions o = PullCommand.options("registry.test:5000/team/app:1", "linux/arm/v7", List.of(), "robot:pw", List.of(), List.of());
        assertThat(o.platform()).contains(new Platform("linux", "arm", "v7"));
        assertThat(o.credentials("registry.test:5000")).contains(new Credentials("robot", "pw"));
        assertThat(o.credentials("docker.io")).isEmpty();
        assertThat(o.toString()).doesNotContain("pw]").doesNotContain("=pw");
    }

    @Test
    void badPlatformOrCredsOfRunAndPullAreOneLineUsageErrorsThatNeverEchoTheSecret() {
        String[] r = run("run", "--root", tmp.toString(), "--state-root", tmp.resolve("state").toString(),
                "--platform", "linux", "registry.test/app:1");
        assertThat(r[0]).isEqualTo("125");
        assertThat(r[1]).isEqualTo("berth: --platform: expected OS/ARCH[/VARIANT], got \"linux\" (see 'berth run --help')\n");
        String[] noTerminal = run("run", "--root", tmp.toString(), "--state-root", tmp.resolve("state").toString(),
                "--creds", "robot", "registry.test/app:1");
        assertThat(noTerminal[0]).isEqualTo("125");
        assertThat(noTerminal[1].lines()).singleElement().asString().startsWith("berth: --creds: no password after the user");
        String[] pull = run("pull", "--root", tmp.toString(), "--creds", ":hunter2", "registry.test/app:1");
        assertThat(pull[0]).isEqualTo("125");
        assertThat(pull[1]).isEqualTo("berth: --creds: expected USER[:PASSWORD], the user is empty (see 'berth pull --help')\n");
        assertThat(pull[1]).doesNotContain("hunter2");
    }
}
