package dev.berth.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.core.testing.ContainerTestSupport;
import dev.berth.core.testing.HostCommand;
import dev.berth.core.testing.TestRootfs;
import dev.berth.image.ImportProgress;
import dev.berth.testing.RequiresRoot;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Containers in a user namespace of their own (rootful): the container's root is an unprivileged host
 * range, image layers stay shared and unchowned (idmapped), and the isolation results hold.
 */
@RequiresRoot
class UserNamespaceIT extends ContainerTestSupport {

    /** A host range per run and test class: B = 100000 + 65536 * k. */
    private static final long BASE = 100000L + 65536L * (1 + (ProcessHandle.current().pid() % 200));
    private static final long OTHER = BASE + 65536L * 300;

    private static UserNamespace mapped(long base) {
        return UserNamespace.of(base, 65536);
    }

    @BeforeAll
    static void image() throws Exception {
        Path image = HostCommand.umociImage(tmp.resolve("userns-image"), root -> {
            Files.createDirectories(root.resolve("data"));
            Files.writeString(root.resolve("data/root-file"), "from the image");
        });
        runtime.images().importImage(image, Optional.of("it/userns:1"), ImportProgress.NONE);
    }

    private static ContainerSpec.Builder inImage(long base, String... args) {
        return probe(args).rootfs(null).image("it/userns:1").userNamespace(mapped(base));
    }

    @Test
    void rootInsideIsTheMappedRangeOnTheHost() throws Exception {
        assertThat(run(inImage(BASE, "id")).stdout()).isEqualTo("uid=0 gid=0 euid=0 egid=0\n");
        assertThat(run(inImage(BASE, "cat", "/proc/self/uid_map")).stdout().trim().split("\\s+"))
                .containsExactly("0", Long.toString(BASE), "65536");
        assertThat(run(inImage(BASE, "cat", "/proc/self/gid_map")).stdout().trim().split("\\s+"))
                .containsExactly("0", Long.toString(BASE), "65536");
    }

    @Test
    void aDirectoryRootfsRunsIdmapped() throws Exception {
        assertThat(run(probe("id").userNamespace(mapped(BASE))).stdout()).isEqualTo("uid=0 gid=0 euid=0 egid=0\n");
        // the rootfs's files are root's on the host, and show as the container's root
        assertThat(run(probe("owner", "/bin/probe").userNamespace(mapped(BASE))).stdout()).isEqualTo("0:0\n");
    }
}
