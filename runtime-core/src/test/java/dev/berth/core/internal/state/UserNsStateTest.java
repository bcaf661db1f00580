package dev.berth.core.internal.state;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.core.IdMapping;
import dev.berth.core.UserNamespace;
import dev.berth.core.internal.state.StateDocument.ControlDoc;
import dev.berth.core.internal.state.StateDocument.UserNsState;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The user namespace a start resolved, kept in state.json for another process's {@code berth inspect}. */
class UserNsStateTest {
    private static final UserNamespace ROOTLESS = UserNamespace.of(
            List.of(IdMapping.of(0, 1002, 1), IdMapping.of(1, 165536, 65536)),
            List.of(IdMapping.of(0, 1002, 1), IdMapping.of(1, 165536, 65536)));

    private static StateDocument withControl(ControlDoc control) {
        return new StateDocument(StateDocument.SCHEMA, "web-1", "running", null, null, List.of(), "busybox", null, null,
                "2026-12-01T23:30:00Z", null, null, null, 0, null, null, control);
    }

    private static StateDocument read(String control) throws IOException {
        return StateJson.read(("{\"schema\":\"berth.state/v1\",\"id\":\"web-1\",\"status\":\"running\",\"cgroup\":[],"
                + "\"restartCount\":0" + (control == null ? "" : ",\"control\":" + control) + "}")
                .getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void aMappedNamespaceIsWrittenAsPodmansLinesAndReadBack() throws IOException {
        byte[] json = StateJson.write(withControl(new ControlDoc(15, null, List.of("sh"), null,
                UserNsState.of(ROOTLESS))));
        assertThat(new String(json, StandardCharsets.UTF_8)).contains("\"userNamespace\":{\"mode\":\"mapped\","
                + "\"uidMap\":[\"0:1002:1\",\"1:165536:65536\"],\"gidMap\":[\"0:1002:1\",\"1:165536:65536\"]}");
        UserNamespace back = StateJson.read(json).control().userNamespace().toUserNamespace();
        assertThat(back).isEqualTo(ROOTLESS);
        assertThat(back.hostUid(1000)).contains(165536L + 999);
    }

    @Test
    void theHostsIsWrittenAsHostNotLeftOut() throws IOException {
        assertThat(UserNsState.of(null)).isEqualTo(new UserNsState("host", null, null));
        assertThat(UserNsState.of(UserNamespace.host())).isEqualTo(new UserNsState("host", null, null));
        byte[] json = StateJson.write(withControl(new ControlDoc(15, null, null, null, UserNsState.of(null))));
        assertThat(new String(json, StandardCharsets.UTF_8)).contains("\"userNamespace\":{\"mode\":\"host\"}");
        assertThat(StateJson.read(json).control().userNamespace().toUserNamespace()).isEqualTo(UserNamespace.host());
    }

    @Test
    void anAutoNamespaceIsNeverRecordedUnresolved() {
        assertThatThrownBy(() -> UserNsState.of(UserNamespace.auto())).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("userNamespace auto: not resolved to maps");
    }

    @Test
    void anOlderStateSaysNothingAndIsNoError() throws IOException {
        assertThat(read("{\"stopSignal\":15,\"argv\":[\"sh\"]}").control().userNamespace()).isNull();
        assertThat(read(null).control()).isNull();
        assertThat(new ControlDoc(15, null, List.of("sh"), null).userNamespace()).isNull();
    }

    @Test
    void anEditedValueIsRefusedNamingTheField() throws IOException {
        assertThatThrownBy(() -> read("{\"stopSignal\":15,\"userNamespace\":{\"mode\":\"auto\"}}").control()
                .userNamespace().toUserNamespace()).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("control.userNamespace.mode: \"auto\" is not host or mapped");
        assertThatThrownBy(() -> read("{\"stopSignal\":15,\"userNamespace\":{}}").control().userNamespace()
                .toUserNamespace()).hasMessage("control.userNamespace.mode: absent is not host or mapped");
        assertThatThrownBy(() -> read("{\"stopSignal\":15,\"userNamespace\":{\"mode\":\"host\",\"uidMap\":[\"0:1:1\"]}}")
                .control().userNamespace().toUserNamespace())
                .hasMessage("control.userNamespace: mode host has no uidMap or gidMap");
        assertThatThrownBy(() -> read("{\"stopSignal\":15,\"userNamespace\":{\"mode\":\"mapped\",\"uidMap\":[\"0:1:1\"]}}")
                .control().userNamespace().toUserNamespace())
                .hasMessage("control.userNamespace.gidMap: absent (mode mapped)");
        assertThatThrownBy(() -> read("{\"stopSignal\":15,\"userNamespace\":{\"mode\":\"mapped\",\"uidMap\":[\"0:1:1\","
                + "\"1:x:2\"],\"gidMap\":[\"0:1:1\"]}}").control().userNamespace().toUserNamespace())
                .hasMessageStartingWith("control.userNamespace.uidMap[1]: id mapping \"1:x:2\":");
        assertThatThrownBy(() -> read("{\"stopSignal\":15,\"userNamespace\":{\"mode\":\"mapped\",\"uidMap\":[\"0:1:10\","
                + "\"5:100:2\"],\"gidMap\":[\"0:1:1\"]}}").control().userNamespace().toUserNamespace())
                .hasMessage("control.userNamespace: uid map: lines 0:1:10 and 5:100:2 overlap inside the container");
        assertThatThrownBy(() -> read("{\"stopSignal\":15,\"userNamespace\":{\"mode\":\"mapped\",\"uidMap\":[],"
                + "\"gidMap\":[\"0:1:1\"]}}").control().userNamespace().toUserNamespace())
                .hasMessage("control.userNamespace: uid map: must have at least one line");
    }

    @Test
    void theTransitionsKeepIt() {
        UserNsState mapped = UserNsState.of(ROOTLESS);
        java.util.List<StateDocument> written = new java.util.ArrayList<>();
        Lifecycle life = new Lifecycle(withControl(new ControlDoc(15, null, List.of("sh"), null, mapped))
                .withStatus(dev.berth.core.ContainerStatus.CREATED), written::add, java.time.Clock.systemUTC());
        life.created(new ProcessId(20, 200), new ProcessId(19, 199));
        life.started();
        life.exited(dev.berth.core.ExitStatus.exited(0));
        assertThat(written).isNotEmpty().allSatisfy(d -> assertThat(d.control().userNamespace()).isEqualTo(mapped));
    }
}
