package dev.berth.core;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.core.Preflight.Check;
import dev.berth.core.Preflight.Status;
import dev.berth.testing.Preconditions;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The preflight as an ordinary user sees it (run by .ci/rootless-suite.sh as an unprivileged user
 * with subordinate ids; never as root).
 */
class PreflightRootlessIT {

    @TempDir
    Path tmp;

    @Test
    void reportsRootlessWithTheUsersOwnSubordinateIdsAndTheUserModeNetworkTools() throws IOException {
        long uid = Preconditions.requireUnprivileged();
        Preflight.Report r = Preflight.run(tmp.resolve("storage"), Path.of("/etc/subuid"), Path.of("/etc/subgid"));

        assertThat(r.rootless()).isTrue();
        assertThat(r.check(Preflight.ROOTLESS).orElseThrow().found()).contains("euid " + uid);
        Check ids = r.check(Preflight.SUBORDINATE_IDS).orElseThrow();
        assertThat(ids.status()).as(ids.toString()).isEqualTo(Status.OK);
        // rootless-suite.sh runs as a user that useradd gave 65536 subordinate ids
        assertThat(ids.found()).contains("65536");
        assertThat(r.check(Preflight.PASTA).orElseThrow().status()).isEqualTo(Status.OK);
        assertThat(r.check(Preflight.SLIRP4NETNS).orElseThrow().status()).isEqualTo(Status.OK);
        assertThat(Files.exists(tmp.resolve("storage"))).as("the preflight changes nothing").isFalse();
    }
}
