package dev.berth.core;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.core.internal.linux.LinuxSyscalls;
import dev.berth.core.internal.user.IdRangeAllocator;
import dev.berth.core.testing.ContainerTestSupport;
import dev.berth.testing.RequiresRoot;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A container's {@code --userns=auto} range goes with the container: when it is closed (attached),
 * removed (detached), and when a runtime reconciles after its owner died.
 */
@RequiresRoot
class IdRangeReleaseIT extends ContainerTestSupport {

    private static IdRangeAllocator ranges() throws IOException {
        Path subuid = Files.writeString(tmp.resolve("subuid"), "containers:400000:100000\n");
        Path subgid = Files.writeString(tmp.resolve("subgid"), "containers:400000:100000\n");
        return new IdRangeAllocator(stateRoot, subuid, subgid, new LinuxSyscalls());
    }

    private static List<String> held(IdRangeAllocator r) {
        return r.allocations().stream().map(IdRangeAllocator.Allocation::id).toList();
    }

    @Test
    void anAttachedContainersRangeGoesWhenItIsClosed() throws Exception {
        IdRangeAllocator r = ranges();
        try (Container c = runtime.start("rel-attached", probe("spin").build())) {
            r.allocate("rel-attached", UserNamespace.auto(2000), List.of());
            assertThat(held(r)).contains("rel-attached");
            c.kill();
            assertThat(c.waitFor(Duration.ofSeconds(20))).isTrue();
            assertThat(held(r)).as("ended but not closed: still its").contains("rel-attached");
        }
        assertThat(held(r)).doesNotContain("rel-attached");
    }

    @Test
    void aDetachedContainersRangeGoesWhenItIsRemoved() throws Exception {
        IdRangeAllocator r = ranges();
        Container c = runtime.start("rel-detached", ContainerSpec.builder().rootfs(dev.berth.core.testing.TestRootfs.path())
                .command("/bin/probe", "exit", "0").detached(true).build());
        r.allocate("rel-detached", UserNamespace.auto(2000), List.of());
        assertThat(c.waitFor(Duration.ofSeconds(20))).isTrue();
        c.close(); // lets go of it: it stays, ended, with its range
        assertThat(held(r)).contains("rel-detached");
        runtime.remove("rel-detached", false);
        assertThat(held(r)).doesNotContain("rel-detached");
    }

    @Test
    void aDeadRuntimesContainerLosesItsRangeWhenReconciled() throws Exception {
        IdRangeAllocator r = ranges();
        // what a runtime that died leaves: a state directory nobody holds the lock of, and a range
        Files.createDirectories(stateRoot.resolve("rel-orphan"));
        r.allocate("rel-orphan", UserNamespace.auto(2000), List.of());
        assertThat(held(r)).contains("rel-orphan");
        runtime.reconcile();
        assertThat(stateRoot.resolve("rel-orphan")).doesNotExist();
        assertThat(held(r)).doesNotContain("rel-orphan");
    }
}
