package dev.berth.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class UserNamespaceTest {

    static final Path SUBUID = Path.of("/etc/subuid");

    @Test
    void parsesPodmansSpellingAndRefusesBadOnes() {
        assertThat(IdMapping.parse("0:100000:65536")).isEqualTo(IdMapping.of(0, 100000, 65536));
        assertThat(IdMapping.parse("0:100000:65536").toMapLine()).isEqualTo("0 100000 65536");
        assertThatThrownBy(() -> IdMapping.parse("0:100000"))
                .hasMessage("id mapping \"0:100000\": expected CONTAINER:HOST:SIZE");
        assertThatThrownBy(() -> IdMapping.parse("0:x:1"))
                .hasMessage("id mapping \"0:x:1\": \"x\" is not a number (expected CONTAINER:HOST:SIZE)");
        assertThatThrownBy(() -> IdMapping.parse("0:1:0")).hasMessageContaining("size must be at least 1");
        assertThatThrownBy(() -> IdMapping.parse("-1:1:1")).hasMessageContaining("container id -1 is out of range");
        assertThatThrownBy(() -> IdMapping.of(0, 4294967290L, 10)).hasMessageContaining("range ends beyond");
    }

    @Test
    void refusesOverlapsInsideAndOutsideAndTooManyLines() {
        IdMapping a = IdMapping.of(0, 100000, 1000);
        assertThatThrownBy(() -> UserNamespace.of(List.of(a, IdMapping.of(999, 300000, 5)), List.of(a)))
                .hasMessage("uid map: lines 0:100000:1000 and 999:300000:5 overlap inside the container");
        assertThatThrownBy(() -> UserNamespace.of(List.of(a), List.of(a, IdMapping.of(5000, 100500, 5))))
                .hasMessage("gid map: lines 0:100000:1000 and 5000:100500:5 overlap on the host");
        assertThatThrownBy(() -> UserNamespace.of(List.of(), List.of(a))).hasMessage("uid map: must have at least one line");
        List<IdMapping> many = new ArrayList<>();
        for (int i = 0; i < 341; i++) {
            many.add(IdMapping.of(i, 100000 + i, 1));
        }
        assertThatThrownBy(() -> UserNamespace.of(many, List.of(a))).hasMessageContaining("341 lines");
    }

    @Test
    void translatesContainerIdsToHostIds() {
        UserNamespace ns = UserNamespace.of(List.of(IdMapping.of(0, 100000, 10), IdMapping.of(1000, 200000, 1)),
                List.of(IdMapping.of(0, 100000, 65536)));
        assertThat(ns.hostUid(0)).contains(100000L);
        assertThat(ns.hostUid(9)).contains(100009L);
        assertThat(ns.hostUid(10)).isEmpty();
        assertThat(ns.hostUid(1000)).contains(200000L);
        assertThat(ns.hostGid(65535)).contains(165535L);
        assertThat(UserNamespace.host().hostUid(42)).contains(42L);
        assertThat(UserNamespace.host().isHost()).isTrue();
        assertThat(UserNamespace.auto().autoSize()).isEmpty();
        assertThat(UserNamespace.auto(2048).autoSize()).hasValue(2048);
        assertThatThrownBy(() -> UserNamespace.auto(0)).hasMessageContaining("size 0 is out of range");
    }

    @Test
    void readsSubordinateIdsByNameOrUidInFileOrder() {
        SubordinateIds ids = SubordinateIds.parse(SUBUID, """
                # comment
                alice:100000:65536
                1001:300000:10
                containers:2147483647:2147483647

                alice:500000:100
                """);
        assertThat(ids.rangesOf("alice", 1001)).extracting(SubordinateIds.Range::start)
                .containsExactly(100000L, 300000L, 500000L);
        assertThat(ids.mappingFor("alice"))
                .containsExactly(IdMapping.of(0, 100000, 65536), IdMapping.of(65536, 500000, 100));
        assertThat(ids.rangesOf("containers")).singleElement()
                .satisfies(r -> assertThat(r.end()).isEqualTo(4294967293L));
        assertThatThrownBy(() -> ids.mappingFor("bob")).hasMessage("/etc/subuid: no subordinate ids for \"bob\"");
        UserNamespace ns = UserNamespace.subordinateIdsOf("alice", ids, ids);
        assertThat(ns.uidMap()).hasSize(2);
    }

    @Test
    void aMalformedSubordinateLineIsAnErrorNamingFileAndLine() {
        assertThatThrownBy(() -> SubordinateIds.parse(SUBUID, "alice:100000:65536\nbob:1\n"))
                .hasMessage("/etc/subuid line 2: \"bob:1\": expected NAME:START:COUNT");
        assertThatThrownBy(() -> SubordinateIds.parse(SUBUID, "bob:x:1"))
                .hasMessage("/etc/subuid line 1: \"bob:x:1\": START and COUNT must be numbers");
        assertThatThrownBy(() -> SubordinateIds.parse(SUBUID, "bob:1:0"))
                .hasMessageContaining("/etc/subuid line 1: subordinate range bob:1:0: out of range");
        assertThat(SubordinateIds.read(Path.of("/nonexistent/subuid")).ranges()).isEmpty();
    }
}
