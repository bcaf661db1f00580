package dev.berth.core.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.cgroups.Resources;
import dev.berth.core.ContainerSpec;
import dev.berth.core.ContainerStartException;
import dev.berth.core.IdMapping;
import dev.berth.core.Mount;
import dev.berth.core.Namespace;
import dev.berth.core.NetworkMode;
import dev.berth.core.Rlimit;
import dev.berth.core.SubordinateIds;
import dev.berth.core.UserNamespace;
import dev.berth.core.internal.plan.Op;
import dev.berth.core.internal.plan.OpCode;
import dev.berth.image.LayerOwners;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The decisions of a rootless start: the mapping, what may be mapped, what needs root, the layers' owners. */
class RootlessStartTest {
    private static final SubordinateIds SUBUID = SubordinateIds.parse(Path.of("/etc/subuid"),
            "other:100000:65536\nalice:165536:65536\n1000:300000:1000\n");
    private static final SubordinateIds SUBGID = SubordinateIds.parse(Path.of("/etc/subgid"), "alice:165536:65536\n");
    private static final SubordinateIds NONE = SubordinateIds.parse(Path.of("/tmp/empty"), "");

    @TempDir
    Path tmp;

    private static RootlessStart alice() {
        return new RootlessStart(1000, 1001, "alice", SUBUID, SUBGID);
    }

    private static ContainerSpec.Builder spec() {
        return ContainerSpec.builder().rootfs(Path.of("/srv/root")).command("/bin/true");
    }

    @Test
    void theRootIsTheUserAndOneToNItsFirstSubordinateRange() {
        UserNamespace ns = alice().defaultMapping();
        assertThat(ns.uidMap()).containsExactly(IdMapping.of(0, 1000, 1), IdMapping.of(1, 165536, 65536));
        assertThat(ns.gidMap()).containsExactly(IdMapping.of(0, 1001, 1), IdMapping.of(1, 165536, 65536));
        assertThat(RootlessStart.singleId(ns)).isFalse();
    }

    @Test
    void withoutSubordinateIdsTheSingleIdIsMapped() {
        UserNamespace ns = new RootlessStart(1000, 1001, "alice", NONE, NONE).defaultMapping();
        assertThat(ns.uidMap()).containsExactly(IdMapping.of(0, 1000, 1));
        assertThat(ns.gidMap()).containsExactly(IdMapping.of(0, 1001, 1));
        assertThat(RootlessStart.singleId(ns)).isTrue();
    }

    @Test
    void hostAndAutoGetTheRootlessMappingAndAnExplicitOneOnlyWithinTheUsersIds() throws Exception {
        RootlessStart a = alice();
        assertThat(a.resolve(UserNamespace.host())).isEqualTo(a.defaultMapping());
        assertThat(a.resolve(UserNamespace.auto())).isEqualTo(a.defaultMapping());
        UserNamespace narrow = UserNamespace.of(List.of(IdMapping.of(0, 1000, 1), IdMapping.of(1, 170000, 100)),
                List.of(IdMapping.of(0, 1001, 1), IdMapping.of(1, 165536, 10)));
        assertThat(a.resolve(narrow)).isEqualTo(narrow);
        // a range of the uid's line (subuid lines name the user or its uid)
        UserNamespace byUid = UserNamespace.of(List.of(IdMapping.of(0, 1000, 1), IdMapping.of(1, 300000, 1000)),
                List.of(IdMapping.of(0, 1001, 1)));
        assertThat(a.resolve(byUid)).isEqualTo(byUid);
        assertThatThrownBy(() -> a.resolve(UserNamespace.of(List.of(IdMapping.of(0, 1000, 1),
                IdMapping.of(1, 100000, 10)), List.of(IdMapping.of(0, 1001, 1)))))
                .isInstanceOf(ContainerStartException.class)
                .hasMessage("rootless: userNamespace uid mapping 1:100000:10 maps host uids that uid 1000 may not map"
                        + " (its own uid 1000, and 165536-231071, 300000-300999 from /etc/subuid; see docs/rootless.md)");
        assertThatThrownBy(() -> a.resolve(UserNamespace.of(List.of(IdMapping.of(0, 1000, 1),
                IdMapping.of(1, 231000, 100)), List.of(IdMapping.of(0, 1001, 1)))))
                .hasMessageStartingWith("rootless: userNamespace uid mapping 1:231000:100 maps host uids");
        assertThatThrownBy(() -> a.resolve(UserNamespace.of(165536, 65536)))
                .hasMessageStartingWith("rootless: userNamespace ").hasMessageContaining("must map the container's root"
                        + " (uid and gid 0) to uid 1000 and gid 1001");
        assertThatThrownBy(() -> new RootlessStart(1000, 1001, "alice", NONE, NONE).resolve(UserNamespace.of(
                List.of(IdMapping.of(0, 1000, 1), IdMapping.of(1, 165536, 1)), List.of(IdMapping.of(0, 1001, 1)))))
                .hasMessageContaining("no subordinate range in /tmp/empty");
    }

    @Test
    void whatNeedsRootIsRefusedInOneLineNamingTheOption() {
        RootlessStart a = alice();
        assertThatThrownBy(() -> a.checkSpec(spec().resources(Resources.builder().memoryMax(1 << 26).build()).build(),
                false)).hasMessage("rootless: resources (memory, cpu, pids, io, device rules) need a delegated cgroup"
                        + " v2 subtree (none found for uid 1000; see docs/rootless.md)");
        assertThatThrownBy(() -> a.checkSpec(spec().shareNamespace(Namespace.PID).build(), false))
                .hasMessage("rootless: shareNamespace PID needs a delegated cgroup v2 subtree to end every process of"
                        + " the container (none found for uid 1000; see docs/rootless.md)");
        assertThatThrownBy(() -> a.checkSpec(spec().network(NetworkMode.bridge()).build(), false))
                .hasMessageStartingWith("rootless: network bridge needs root");
        assertThatThrownBy(() -> a.checkSpec(spec().network("container:web").build(), false))
                .hasMessageStartingWith("rootless: network container:web needs root");
        assertThatThrownBy(() -> a.checkSpec(spec().mounts(List.of(Mount.bind(Path.of("/srv"), "/srv"),
                Mount.bind(Path.of("/data"), "/data", "idmap"))).build(), false))
                .hasMessageStartingWith("rootless: mounts[1] option idmap needs root");
        long[] hard = RootlessStart.hardLimits();
        assertThat(hard).hasSizeGreaterThan(Rlimit.Type.NOFILE.resource());
        if (hard[Rlimit.Type.NOFILE.resource()] != -1) {
            assertThatThrownBy(() -> a.checkSpec(spec().rlimit(Rlimit.Type.NOFILE, 64, Rlimit.UNLIMITED).build(), false))
                    .hasMessageStartingWith("rootless: rlimits ").hasMessageContaining("hard limit unlimited is above"
                            + " this process's hard limit " + hard[Rlimit.Type.NOFILE.resource()]);
        }
    }

    @Test
    void whatARootlessContainerMayHaveIsAccepted() throws Exception {
        RootlessStart a = alice();
        a.checkSpec(spec().network(NetworkMode.host()).mounts(List.of(Mount.bind(Path.of("/srv"), "/srv", "ro")))
                .build(), false);
        a.checkSpec(spec().network(NetworkMode.none()).rlimit(Rlimit.Type.NOFILE, 16, 16).build(), false);
        // with a cgroup (a delegated subtree), resources are the cgroup's business
        a.checkSpec(spec().resources(Resources.builder().memoryMax(1 << 26).build()).build(), true);
        // the cgroup then ends every process of a container in the host's PID namespace; sharing others needs none
        a.checkSpec(spec().shareNamespace(Namespace.PID).build(), true);
        a.checkSpec(spec().shareNamespace(Namespace.IPC).shareNamespace(Namespace.UTS).build(), false);
    }

    @Test
    void theSingleIdIsWrittenByTheJvmWithSetgroupsDeniedFirst() throws Exception {
        RecordingSyscalls sys = new RecordingSyscalls();
        RootlessStart single = new RootlessStart(1000, 1001, "alice", NONE, NONE);
        single.writeMaps(sys, 77, single.defaultMapping());
        assertThat(sys.calls).containsSubsequence("open /proc/77/setgroups -> 10", "write 10 4 bytes", "close 10",
                "open /proc/77/uid_map -> 11", "write 11 9 bytes", "open /proc/77/gid_map -> 12");
        assertThat(new String(sys.written.get(0), StandardCharsets.US_ASCII)).isEqualTo("deny");
        assertThat(new String(sys.written.get(1), StandardCharsets.US_ASCII)).isEqualTo("0 1000 1\n");
        assertThat(new String(sys.written.get(2), StandardCharsets.US_ASCII)).isEqualTo("0 1001 1\n");
    }

    @Test
    void subordinateIdsGoThroughNewuidmapAndNewgidmap() throws Exception {
        assertThat(RootlessStart.helperArgv("newuidmap", 77, alice().defaultMapping().uidMap()))
                .containsExactly("newuidmap", "77", "0", "1000", "1", "1", "165536", "65536");
        RecordingSyscalls sys = new RecordingSyscalls();
        RootlessStart missing = new RootlessStart(1000, 1001, "alice", SUBUID, SUBGID, tmp.resolve("no-newuidmap")
                .toString(), "newgidmap");
        assertThatThrownBy(() -> missing.writeMaps(sys, 77, missing.defaultMapping()))
                .isInstanceOf(ContainerStartException.class)
                .hasMessageStartingWith("rootless: " + tmp.resolve("no-newuidmap") + " 77 0 1000 1 1 165536 65536:"
                        + " cannot run")
                .hasMessageContaining("install the uidmap package, and give uid 1000 a line in /etc/subuid")
                .satisfies(e -> assertThat(e.getMessage()).doesNotContain("\n"));
        Path failing = tmp.resolve("newuidmap");
        Files.writeString(failing, "#!/bin/sh\necho 'newuidmap: uid range [1-65537) -> [165536-231072) not allowed'"
                + " >&2\nexit 1\n");
        failing.toFile().setExecutable(true);
        RootlessStart refused = new RootlessStart(1000, 1001, "alice", SUBUID, SUBGID, failing.toString(), "newgidmap");
        assertThatThrownBy(() -> refused.writeMaps(sys, 77, refused.defaultMapping()))
                .hasMessageContaining(": exit 1: newuidmap: uid range [1-65537) -> [165536-231072) not allowed (install");
        assertThat(sys.calls).isEmpty(); // the JVM writes nothing itself with subordinate ids
    }

    @Test
    void aLayerWithListedOwnersGetsOneOpUntilItsMarkerSaysThisMapping() throws Exception {
        Path layer = Files.createDirectories(tmp.resolve("layers/sha256/abc"));
        Path plain = Files.createDirectories(tmp.resolve("layers/sha256/def"));
        LayerOwners.write(layer, List.of(new LayerOwners.Entry("var/www", 33, 33, 0750),
                new LayerOwners.Entry("usr/bin/sudo", 0, 0, 04755 & 07777)));
        UserNamespace ns = alice().defaultMapping();
        RootlessStart.LayerWork w = RootlessStart.layerWork(List.of(plain, layer), ns);
        assertThat(w.layers()).containsExactly(layer);
        assertThat(w.ops()).containsExactly(Op.of(OpCode.LAYER_OWNERS, layer.toString(), "var/www", 33L, 33L, 0750L,
                "usr/bin/sudo", 0L, 0L, 04755L));
        w.markApplied();
        assertThat(RootlessStart.layerWork(List.of(plain, layer), ns).ops()).isEmpty();
        // another mapping: the owners are given again for it
        UserNamespace other = UserNamespace.of(List.of(IdMapping.of(0, 1000, 1), IdMapping.of(1, 170000, 100)),
                List.of(IdMapping.of(0, 1001, 1), IdMapping.of(1, 170000, 100)));
        assertThat(RootlessStart.layerWork(List.of(layer), other).ops()).hasSize(1);
        // the single id gives nothing
        assertThat(RootlessStart.layerWork(List.of(layer), new RootlessStart(1000, 1001, "alice", NONE, NONE)
                .defaultMapping())).isEqualTo(RootlessStart.LayerWork.NONE);
    }

    @Test
    void hostileOrUnmappedEntriesAreRefusedBeforeTheInitSeesThem() throws Exception {
        UserNamespace ns = alice().defaultMapping();
        Path layer = tmp.resolve("l");
        // the list itself refuses a `..` component (LayerOwners.Entry); what it lets through, the start refuses too
        for (String dotdot : List.of("../etc/passwd", "a/../../b")) {
            assertThatThrownBy(() -> new LayerOwners.Entry(dotdot, 1, 1, 0644)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessage("owners entry path: `..` component in " + dotdot);
        }
        for (String bad : List.of("a//b", "./a", "a/.")) {
            assertThatThrownBy(() -> RootlessStart.layerOwnersOp(layer, List.of(new LayerOwners.Entry(bad, 1, 1, 0644)),
                    ns)).isInstanceOf(ContainerStartException.class)
                    .hasMessage("layer " + layer + ": owners entry \"" + bad + "\": not a plain relative path beneath"
                            + " the layer");
        }
        assertThatThrownBy(() -> RootlessStart.layerOwnersOp(layer, List.of(new LayerOwners.Entry("big", 70000, 0,
                0644)), ns)).hasMessageStartingWith("layer " + layer + ": owners entry big owner 70000:0 is not mapped");
        Path corrupt = Files.createDirectories(tmp.resolve("corrupt"));
        Files.writeString(LayerOwners.fileFor(corrupt), "{not json");
        assertThatThrownBy(() -> RootlessStart.layerWork(List.of(corrupt), ns))
                .hasMessageStartingWith("layer " + corrupt + ": owners list " + LayerOwners.fileFor(corrupt));
    }
}
