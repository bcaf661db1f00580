package dev.berth.core.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.core.ContainerStartException;
import dev.berth.core.IdMapping;
import dev.berth.core.UserNamespace;
import dev.berth.core.internal.plan.RootSource;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The host side of a user-namespaced start, against the recording fake. */
class UserNamespacesTest {

    @Test
    void theMapsAreWrittenInOneWriteEachUidFirst() throws Exception {
        RecordingSyscalls sys = new RecordingSyscalls();
        UserNamespace ns = UserNamespace.of(List.of(IdMapping.of(0, 100000, 1000), IdMapping.of(1000, 5000, 1)),
                List.of(IdMapping.of(0, 200000, 65536)));
        UserNamespaces.writeMaps(sys, 123, ns);
        assertThat(sys.calls).containsSubsequence("open /proc/123/uid_map -> 10", "write 10 26 bytes", "close 10",
                "open /proc/123/gid_map -> 11", "write 11 15 bytes", "close 11");
        assertThat(new String(sys.written.get(0), StandardCharsets.US_ASCII)).isEqualTo("0 100000 1000\n1000 5000 1\n");
        assertThat(new String(sys.written.get(1), StandardCharsets.US_ASCII)).isEqualTo("0 200000 65536\n");
    }

    @Test
    void aMapTheKernelRefusesFailsTheStartNamingTheFileAndTheMap() {
        RecordingSyscalls sys = new RecordingSyscalls();
        sys.writeErrors.put("/proc/123/uid_map", 1);
        assertThatThrownBy(() -> UserNamespaces.writeMaps(sys, 123, UserNamespace.of(100000, 65536)))
                .isInstanceOf(ContainerStartException.class)
                .hasMessage("write(/proc/123/uid_map, \"0 100000 65536\"): Operation not permitted")
                .satisfies(e -> assertThat(((ContainerStartException) e).errno()).isEqualTo(1));
        assertThat(sys.calls).contains("close 10").noneMatch(c -> c.contains("gid_map"));
    }

    @Test
    void anOverlayRootIsMadeOfIdmappedLayersTopFirst() throws Exception {
        RecordingSyscalls sys = new RecordingSyscalls();
        int tree = UserNamespaces.idmappedRoot(sys, 42, new RootSource.Overlay("/s/l", "x", "u", "w", "/s/c/rootfs"),
                List.of("/s/layers/top", "/s/layers/base"), new String[] {"/s/c/upper", "/s/c/work"});
        assertThat(sys.calls).containsSubsequence(
                "open /proc/42/ns/user -> 10",
                "fsopen overlay -> 11",
                "open_tree /s/layers/top 524289 -> 12",
                "mount_setattr 12 0 MOUNT_ATTR_IDMAP userns 10 /s/layers/top",
                "fsconfig 11 lowerdir+=/proc/self/fd/12",
                "open_tree /s/layers/base 524289 -> 13",
                "mount_setattr 13 0 MOUNT_ATTR_IDMAP userns 10 /s/layers/base",
                "fsconfig 11 lowerdir+=/proc/self/fd/13",
                "fsconfig 11 upperdir=/s/c/upper",
                "fsconfig 11 workdir=/s/c/work",
                "fsconfig 11 create",
                "fsmount 11 -> 14");
        assertThat(tree).isEqualTo(14);
        // everything but the tree is closed
        assertThat(sys.calls).contains("close 10", "close 11", "close 12", "close 13").doesNotContain("close 14");
    }

    @Test
    void aDirectoryRootIsItsTreeIdmappedRecursively() throws Exception {
        RecordingSyscalls sys = new RecordingSyscalls();
        int tree = UserNamespaces.idmappedRoot(sys, 42, new RootSource.Directory("/srv/root"), List.of(), null);
        assertThat(sys.calls).containsSubsequence("open /proc/42/ns/user -> 10",
                "open_tree /srv/root " + (1 | 02000000 | 0x8000) + " -> 11",
                "mount_setattr 11 " + 0x8000 + " MOUNT_ATTR_IDMAP userns 10 /srv/root", "close 10");
        assertThat(tree).isEqualTo(11);
        assertThat(sys.calls).noneMatch(c -> c.startsWith("fsopen"));
    }

    @Test
    void theContainersRootAndTargetUserMustBeMapped() {
        List<IdMapping> map = List.of(IdMapping.of(0, 100000, 1000));
        assertThatThrownBy(() -> UserNamespaces.checkMapped(map, map, 1000, 0, List.of(), "user 1000"))
                .hasMessage("user 1000: not mapped by the container's uid map 0:100000:1000");
        assertThatThrownBy(() -> UserNamespaces.checkMapped(map, map, 5, 4000, List.of(), "user app (uid 5)"))
                .hasMessage("user app (uid 5): group 4000 not mapped by the container's gid map 0:100000:1000");
        assertThatThrownBy(() -> UserNamespaces.checkMapped(map, map, 5, 5, List.of(7L, 2000L), "user 5"))
                .hasMessage("user 5: additional group 2000 not mapped by the container's gid map 0:100000:1000");
        List<IdMapping> noRoot = List.of(IdMapping.of(1, 100000, 1000));
        assertThatThrownBy(() -> UserNamespaces.checkMapped(noRoot, map, 1, 0, List.of(), "user 1"))
                .hasMessageContaining("does not map the container's root (uid 0)");
    }
}
