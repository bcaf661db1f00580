package dev.berth.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.core.internal.state.StateDocument;
import dev.berth.core.internal.state.StateDocument.ControlDoc;
import dev.berth.core.internal.state.StateDocument.UserNsState;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** {@link ContainerInfo#userNamespace()}: what {@code runtime.list()} reads from a state file, for any process. */
class ContainerInfoUserNamespaceTest {
    private static ContainerInfo info(ControlDoc control) {
        return ContainerRuntime.info(new StateDocument(StateDocument.SCHEMA, "web-1", "running", null, null, List.of(),
                "busybox", null, null, "2026-12-01T23:30:00Z", null, null, null, 0, null, null, control),
                ContainerInfo.Owner.DETACHED);
    }

    @Test
    void theRecordedNamespaceIsTheInfos() {
        UserNamespace mapped = UserNamespace.of(List.of(IdMapping.of(0, 100000, 65536)),
                List.of(IdMapping.of(0, 200000, 1000), IdMapping.of(1000, 1000, 1)));
        ContainerInfo i = info(new ControlDoc(15, null, List.of("sh"), null, UserNsState.of(mapped)));
        assertThat(i.userNamespace()).contains(mapped);
        assertThat(i.withNetwork(Optional.empty()).userNamespace()).as("kept with the network").contains(mapped);
        assertThat(info(new ControlDoc(15, null, null, null, UserNsState.of(null))).userNamespace())
                .contains(UserNamespace.host());
    }

    @Test
    void anOlderOrAnEditedStateIsUnknownNotAnError() {
        assertThat(info(null).userNamespace()).isEmpty();
        assertThat(info(new ControlDoc(15, null, List.of("sh"))).userNamespace()).isEmpty();
        ContainerInfo edited = info(new ControlDoc(15, null, null, null, new UserNsState("mapped", List.of("0:1"),
                List.of("0:1:1"))));
        assertThat(edited.userNamespace()).isEmpty();
        assertThat(edited.id()).as("the rest of the state still reads").isEqualTo("web-1");
    }

    @Test
    void anInfoHoldsOnlyAResolvedNamespace() {
        assertThatThrownBy(() -> new ContainerInfo("c", ContainerStatus.RUNNING, Optional.empty(), Optional.of("/r"),
                Instant.EPOCH, Optional.empty(), Optional.empty(), Optional.empty(), 1, ContainerInfo.Owner.NONE,
                Optional.empty(), List.of(), Optional.empty(), 0, Optional.of(UserNamespace.auto())))
                .isInstanceOf(IllegalArgumentException.class).hasMessage("userNamespace: auto is not resolved to maps");
        ContainerInfo older = new ContainerInfo("c", ContainerStatus.RUNNING, Optional.empty(), Optional.of("/r"),
                Instant.EPOCH, Optional.empty(), Optional.empty(), Optional.empty(), 1, ContainerInfo.Owner.NONE);
        assertThat(older.userNamespace()).isEmpty();
    }
}
