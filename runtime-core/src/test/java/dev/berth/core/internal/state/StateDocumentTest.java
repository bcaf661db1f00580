package dev.berth.core.internal.state;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.core.ContainerSpec;
import dev.berth.core.ContainerStatus;
import dev.berth.core.ExitStatus;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class StateDocumentTest {

    private static StateDocument running() {
        return SpecDocumentTest.state(SpecDocument.of(ContainerSpec.builder().rootfs(Path.of("/srv/r")).command("/bin/true")
                .build()));
    }

    @Test
    void roundTripsEveryField() throws Exception {
        StateDocument d = running().withExit(ExitStatus.killed(9).withOomKilled(true), "2026-01-01T00:00:02Z")
                .withCgroup(java.util.List.of()).withUsage(new StateDocument.UsageDoc(1234L, 5678L));
        StateDocument back = StateJson.read(StateJson.write(d));
        assertThat(back).isEqualTo(d);
        assertThat(back.containerStatus()).isEqualTo(ContainerStatus.EXITED);
        assertThat(back.exit().toExitStatus()).isEqualTo(ExitStatus.killed(9).withOomKilled(true));
        assertThat(back.init().id()).isEqualTo(new ProcessId(10, 20));
    }

    @Test
    void theFileNamesItsFieldsAsDocumented() {
        String json = new String(StateJson.write(running().withExit(ExitStatus.exited(3), "2026-01-01T00:00:02Z")),
                StandardCharsets.UTF_8);
        assertThat(json).startsWith("{\"schema\":\"berth.state/v1\",\"id\":\"web-1\",\"status\":\"exited\","
                + "\"init\":{\"pid\":10,\"startTime\":20},\"monitor\":{\"pid\":9,\"startTime\":19},"
                + "\"cgroup\":[\"/sys/fs/cgroup/memory/berth/web-1\"],\"rootfs\":\"/srv/r\",\"spec\":{\"version\":1,");
        assertThat(json).contains("\"created\":\"2026-01-01T00:00:00Z\",\"started\":\"2026-01-01T00:00:01Z\","
                + "\"finished\":\"2026-01-01T00:00:02Z\",\"exit\":{\"exitCode\":3,\"oomKilled\":false},\"restartCount\":0}");
        assertThat(json).doesNotContain("\"health\"", "\"image\"");
    }

    @Test
    void anotherSchemaOrAMissingStatusIsRefused() {
        assertThatThrownBy(() -> StateJson.read("{\"schema\":\"berth.state/v9\",\"id\":\"a\",\"status\":\"running\"}"
                .getBytes(StandardCharsets.UTF_8))).isInstanceOf(IOException.class)
                .hasMessage("schema \"berth.state/v9\" is not berth.state/v1");
        assertThatThrownBy(() -> StateJson.read("{\"schema\":\"berth.state/v1\",\"id\":\"a\"}"
                .getBytes(StandardCharsets.UTF_8))).hasMessage("id and status are required");
        assertThatThrownBy(() -> StateJson.read("{\"schema\":\"berth.state/v1\",\"id\":\"a\",\"status\":\"zombie\"}"
                .getBytes(StandardCharsets.UTF_8))).hasMessageContaining("unknown container status \"zombie\"");
    }

    @Test
    void fieldsALaterVersionAddsAreIgnored() throws Exception {
        StateDocument d = StateJson.read(("{\"schema\":\"berth.state/v1\",\"id\":\"a\",\"status\":\"running\","
                + "\"logs\":{\"path\":\"/x\"}}").getBytes(StandardCharsets.UTF_8));
        assertThat(d.containerStatus()).isEqualTo(ContainerStatus.RUNNING);
    }
}
