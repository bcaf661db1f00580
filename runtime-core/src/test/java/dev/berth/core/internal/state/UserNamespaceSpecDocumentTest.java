package dev.berth.core.internal.state;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.core.ContainerSpec;
import dev.berth.core.IdMapping;
import dev.berth.core.UserNamespace;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The persisted spec keeps the user namespace: detached and adopted containers, restarts and inspect see it. */
class UserNamespaceSpecDocumentTest {

    private static ContainerSpec roundTrip(ContainerSpec spec) throws Exception {
        return StateJson.read(StateJson.write(SpecDocumentTest.state(SpecDocument.of(spec)))).spec().toSpec();
    }

    @Test
    void mappedAndAutoRoundTripAndTheHostsWritesNothing() throws Exception {
        UserNamespace mapped = UserNamespace.of(List.of(IdMapping.of(0, 100000, 1000), IdMapping.of(1000, 5000, 1)),
                List.of(IdMapping.of(0, 200000, 65536)));
        assertThat(roundTrip(ContainerSpec.builder().image("busybox").userNamespace(mapped).build()).userNamespace())
                .isEqualTo(mapped);
        assertThat(SpecDocument.of(ContainerSpec.builder().image("busybox").userNamespace(mapped).build())
                .userNamespace()).isEqualTo(new SpecDocument.UserNsDoc("mapped", List.of("0:100000:1000", "1000:5000:1"),
                        List.of("0:200000:65536"), null));
        assertThat(roundTrip(ContainerSpec.builder().image("busybox").userNamespace(UserNamespace.auto(2048)).build())
                .userNamespace()).isEqualTo(UserNamespace.auto(2048));
        assertThat(SpecDocument.of(ContainerSpec.builder().image("busybox").build()).userNamespace()).isNull();
        assertThat(roundTrip(ContainerSpec.builder().image("busybox").build()).userNamespace().isHost()).isTrue();
    }

    @Test
    void aStoredMapThatNoLongerValidatesIsRefusedNamingTheField() {
        SpecDocument.UserNsDoc bad = new SpecDocument.UserNsDoc("mapped", List.of("0:100000:10", "5:200000:10"),
                List.of("0:1:1"), null);
        assertThatThrownBy(() -> bad.toUserNamespace()).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("uid map");
        assertThatThrownBy(() -> new SpecDocument.UserNsDoc("keep-id", null, null, null).toUserNamespace())
                .hasMessage("spec.userNamespace.mode: \"keep-id\" is not mapped or auto");
    }
}
