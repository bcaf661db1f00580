package dev.berth.core;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.testing.Preconditions;
import dev.berth.testing.RequiresRootless;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * {@link SeccompIT} run by an ordinary user (.ci/rootless-suite.sh): the default filter, profiles and
 * listeners work the same inside a user namespace whose root is that user. Where rootless differs,
 * the expectation says how: the keyring.
 */
@RequiresRootless
class SeccompRootlessIT extends SeccompIT {

    /**
     * A rootless container has its own user namespace, and with it its own user keyring: even
     * unconfined it does not find the key its user added on the host. The default filter still
     * refuses the keyring calls, and nothing is planted in the user's keyring.
     */
    @Override
    @Test
    void aDefaultContainerCanNeitherReadNorPlantKeysInTheHostRootsKeyring() throws Exception {
        Preconditions.requireUnprivileged();
        String secret = "berth-host-" + UUID.randomUUID();
        String planted = "berth-planted-" + UUID.randomUUID();
        assertThat(host("add-key", secret, "s3cret")).startsWith("add_key: ok");
        try {
            assertThat(host("read-key", secret)).as("the user's own read, on the host").isEqualTo("key: s3cret\n");
            assertThat(run(probe("read-key", secret).seccomp(Seccomp.unconfined())).stdout())
                    .isEqualTo("keyctl: Required key not available\n");
            assertThat(run(probe("read-key", secret)).stdout()).isEqualTo("keyctl: Operation not permitted\n");
            assertThat(run(probe("add-key", planted, "evil")).stdout()).isEqualTo("add_key: Operation not permitted\n");
            assertThat(host("read-key", planted)).isEqualTo("keyctl: Required key not available\n");
        } finally {
            host("revoke-key", secret);
            host("revoke-key", planted);
        }
    }
}
