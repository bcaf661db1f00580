package dev.berth.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.testing.Preconditions;
import dev.berth.testing.RequiresRootless;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * {@link LifecycleIT} run by an ordinary user (.ci/rootless-suite.sh): exit codes, signals, stop and
 * kill, stdio, concurrent starts and state work the same without root and without a cgroup. Where
 * rootless differs, the expectation says how.
 */
@RequiresRootless
class LifecycleRootlessIT extends LifecycleIT {

    /**
     * The init is closed even to the user who started it (non-dumpable, with the host user namespace's
     * memory): neither its binary nor its namespaces can be opened from the host, and the container
     * cannot rewrite it either.
     */
    @Override
    @Test
    void theInitIsASealedMemfdTheContainerCannotRewrite() throws Exception {
        Preconditions.requireUnprivileged();
        try (Container c = runtime.start(probe("sleep", "30").build())) {
            for (String link : new String[] {"exe", "root", "ns/mnt", "ns/user"}) {
                Path p = Path.of("/proc/" + c.pid() + "/" + link);
                assertThatThrownBy(() -> Files.readSymbolicLink(p)).as(p.toString())
                        .isInstanceOf(AccessDeniedException.class);
            }
            assertThatThrownBy(() -> Files.newInputStream(Path.of("/proc/" + c.pid() + "/exe")).close())
                    .isInstanceOf(AccessDeniedException.class);
            c.kill();
        }
        Result r = run(probe("write", "/proc/1/exe", "x"));
        assertThat(r.stdout()).startsWith("/proc/1/exe: ");
        assertThat(r.status()).isEqualTo(ExitStatus.exited(1));
    }

    /**
     * Sharing the host's PID namespace needs a cgroup to end every process of the container (its init
     * is not their reaper there); a rootless runtime without a delegated cgroup refuses it in one line
     * at start, leaving nothing behind.
     */
    @Override
    @Test
    void killEndsEveryProcessOfAContainerInTheHostsPidNamespace() throws Exception {
        Preconditions.requireUnprivileged();
        String id = "hostpid-" + Long.toHexString(System.nanoTime());
        assertThatThrownBy(() -> runtime.start(id, probe("family", "3").shareNamespace(Namespace.PID).build()))
                .isInstanceOf(ContainerStartException.class)
                .hasMessageStartingWith("rootless: shareNamespace PID needs a delegated cgroup v2 subtree")
                .hasMessageContaining("docs/rootless.md")
                .satisfies(e -> assertThat(e.getMessage()).doesNotContain("\n"));
        assertThat(stateRoot.resolve(id)).doesNotExist();
        assertThat(tmp.resolve("storage/containers/" + id)).doesNotExist();
        assertThat(runtime.containers()).noneMatch(c -> c.id().equals(id));
    }
}
