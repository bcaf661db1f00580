package dev.berth.core.internal.state;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.core.ContainerStateException;
import dev.berth.core.ContainerStatus;
import dev.berth.core.ExitStatus;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The status machine against a recording store: what is allowed, what is refused, what is written. */
class LifecycleTest {
    private final List<StateDocument> written = new ArrayList<>();
    private final Lifecycle life = new Lifecycle(new StateDocument(StateDocument.SCHEMA, "web-1", "created", null, null,
            List.of("/cg/web-1"), "busybox", null, null, null, null, null, null, 0, null, null, null), written::add,
            Clock.fixed(Instant.parse("2026-01-01T00:00:00Z"), ZoneOffset.UTC));

    private List<String> statuses() {
        return written.stream().map(StateDocument::status).toList();
    }

    @Test
    void createdRunningPausedRunningExited() {
        life.created(new ProcessId(10, 100), new ProcessId(9, 99));
        life.started();
        assertThat(life.paused()).isTrue();
        assertThat(life.resumed()).isTrue();
        life.exited(ExitStatus.exited(0));
        assertThat(statuses()).containsExactly("created", "running", "paused", "running", "exited");
        StateDocument last = written.get(written.size() - 1);
        assertThat(last.init()).isEqualTo(new StateDocument.ProcessDoc(10, 100));
        assertThat(last.monitor()).isEqualTo(new StateDocument.ProcessDoc(9, 99));
        assertThat(last.created()).isEqualTo("2026-01-01T00:00:00Z");
        assertThat(last.started()).isEqualTo("2026-01-01T00:00:00Z");
        assertThat(last.finished()).isEqualTo("2026-01-01T00:00:00Z");
        assertThat(last.exit()).isEqualTo(new StateDocument.ExitDoc(0, null, false));
    }

    @Test
    void aRestartsRunIsRecordedRestartingUntilExecAndKeepsTheFirstCreationTime() {
        List<StateDocument> out = new ArrayList<>();
        Lifecycle again = new Lifecycle(new StateDocument(StateDocument.SCHEMA, "web-1", "created", null, null,
                List.of(), "busybox", null, null, "2025-06-01T00:00:00Z", null, null, null, 1, null, null, null), out::add,
                Clock.fixed(Instant.parse("2026-01-01T00:00:00Z"), ZoneOffset.UTC), true);
        again.created(new ProcessId(20, 200), new ProcessId(19, 199));
        assertThat(again.status()).isEqualTo(ContainerStatus.RESTARTING); // never created/exited for a list in between
        again.started();
        again.exited(ExitStatus.exited(1));
        assertThat(out.stream().map(StateDocument::status).toList()).containsExactly("restarting", "running", "exited");
        assertThat(out).allSatisfy(d -> assertThat(d.created()).isEqualTo("2025-06-01T00:00:00Z"));
        assertThat(out.get(1).started()).isEqualTo("2026-01-01T00:00:00Z");
        assertThat(out.get(2).exit()).isEqualTo(new StateDocument.ExitDoc(1, null, false));
    }

    @Test
    void aRestartsRunThatEndsBeforeItsExecRecordsItsExit() {
        Lifecycle again = new Lifecycle(new StateDocument(StateDocument.SCHEMA, "web-1", "created", null, null,
                List.of(), "busybox", null, null, "2025-06-01T00:00:00Z", null, null, null, 1, null, null, null),
                written::add, Clock.systemUTC(), true);
        again.created(new ProcessId(20, 200), new ProcessId(19, 199));
        again.exited(ExitStatus.killed(9));
        again.started(); // too late: it records the time only
        assertThat(statuses()).containsExactly("restarting", "exited", "exited");
        assertThat(again.state().exit()).isEqualTo(new StateDocument.ExitDoc(null, 9, false));
    }

    @Test
    void anExitThatARestartFollowsIsRecordedRestartingInOneWrite() {
        life.created(new ProcessId(10, 100), new ProcessId(9, 99));
        life.started();
        life.restartFollows(s -> s.exitCode() == 1);
        life.exited(ExitStatus.exited(1));
        assertThat(statuses()).containsExactly("created", "running", "restarting");
        assertThat(written.get(2).exit()).isEqualTo(new StateDocument.ExitDoc(1, null, false));
        life.restartCalledOff(); // its supervisor decided otherwise after all
        assertThat(statuses()).containsExactly("created", "running", "restarting", "exited");
        // a first run keeps its own creation time
        assertThat(written.get(0).created()).isEqualTo("2026-01-01T00:00:00Z");
    }

    @Test
    void aDiscardedLifecycleKeepsItsExitInMemoryAndWritesNothingMore() {
        life.created(new ProcessId(10, 100), new ProcessId(9, 99));
        life.started();
        life.discard(); // close() ends it and removes its state right after
        life.exited(ExitStatus.killed(9));
        life.cgroupRemoved(null);
        assertThat(statuses()).containsExactly("created", "running");
        assertThat(life.status()).isEqualTo(ContainerStatus.EXITED);
        assertThat(life.state().exit()).isEqualTo(new StateDocument.ExitDoc(null, 9, false));
        assertThat(life.state().cgroup()).isEmpty();
    }

    @Test
    void pausingWhatIsNotRunningIsRefusedNamingTheStatus() {
        life.created(new ProcessId(10, 100), new ProcessId(9, 99));
        assertThatThrownBy(() -> life.require("pause", ContainerStatus.RUNNING, "running"))
                .isInstanceOf(ContainerStateException.class)
                .hasMessage("pause: container web-1 is not running (status created)");
        life.started();
        life.exited(ExitStatus.killed(9));
        assertThatThrownBy(() -> life.require("pause", ContainerStatus.RUNNING, "running"))
                .isInstanceOf(ContainerStateException.class)
                .hasMessage("pause: container web-1 is not running (status exited)")
                .satisfies(e -> assertThat(((ContainerStateException) e).status()).isEqualTo(ContainerStatus.EXITED));
        assertThatThrownBy(() -> life.require("resume", ContainerStatus.PAUSED, "paused"))
                .hasMessage("resume: container web-1 is not paused (status exited)");
    }

    @Test
    void resumingWhatRunsAndPausingTwiceAreRefused() {
        life.created(new ProcessId(10, 100), new ProcessId(9, 99));
        life.started();
        assertThatThrownBy(life::resumed).hasMessage("resume: container web-1 is not paused (status running)");
        life.paused();
        assertThatThrownBy(life::paused).hasMessage("pause: container web-1 is not running (status paused)");
        assertThat(statuses()).containsExactly("created", "running", "paused");
    }

    @Test
    void anExitWinsOverAPauseOrAStartThatCameLater() {
        life.created(new ProcessId(10, 100), new ProcessId(9, 99));
        life.exited(ExitStatus.exited(1)); // the target died before start() recorded the exec
        life.started();
        assertThat(life.status()).isEqualTo(ContainerStatus.EXITED);
        assertThat(life.paused()).isFalse();
        assertThat(life.resumed()).isFalse();
        life.exited(ExitStatus.exited(2)); // a second report changes nothing
        assertThat(statuses()).containsExactly("created", "exited", "exited");
        assertThat(life.state().exit().exitCode()).isEqualTo(1);
        assertThat(life.state().started()).isNotNull();
    }

    @Test
    void aFailedWriteLeavesTheStatusButAnExitIsKeptAnyway() {
        List<StateDocument> none = new ArrayList<>();
        Lifecycle failing = new Lifecycle(new StateDocument(StateDocument.SCHEMA, "a", "running", null, null, List.of(),
                null, null, null, null, null, null, null, 0, null, null, null), d -> {
                    throw new IllegalStateException("disk full");
                }, Clock.systemUTC());
        assertThatThrownBy(failing::paused).hasMessage("disk full");
        assertThat(failing.status()).isEqualTo(ContainerStatus.RUNNING);
        assertThatThrownBy(() -> failing.exited(ExitStatus.exited(0))).hasMessage("disk full");
        assertThat(failing.status()).isEqualTo(ContainerStatus.EXITED);
        assertThat(none).isEmpty();
    }

    @Test
    void theMachineItself() {
        assertThat(ContainerStatus.CREATED.canBecome(ContainerStatus.RUNNING)).isTrue();
        assertThat(ContainerStatus.CREATED.canBecome(ContainerStatus.PAUSED)).isFalse();
        assertThat(ContainerStatus.RUNNING.canBecome(ContainerStatus.PAUSED)).isTrue();
        assertThat(ContainerStatus.PAUSED.canBecome(ContainerStatus.RUNNING)).isTrue();
        assertThat(ContainerStatus.PAUSED.canBecome(ContainerStatus.EXITED)).isTrue();
        for (ContainerStatus s : ContainerStatus.values()) {
            // exited is terminal but for a detached container's wait before its restart
            assertThat(ContainerStatus.EXITED.canBecome(s)).isEqualTo(s == ContainerStatus.RESTARTING);
            assertThat(ContainerStatus.ofLabel(s.label())).isEqualTo(s);
        }
        assertThat(ContainerStatus.RESTARTING.canBecome(ContainerStatus.CREATED)).isTrue();
        assertThat(ContainerStatus.RESTARTING.canBecome(ContainerStatus.EXITED)).isTrue();
        assertThat(ContainerStatus.RESTARTING.canBecome(ContainerStatus.RUNNING)).isFalse();
        assertThat(ContainerStatus.RESTARTING.label()).isEqualTo("restarting");
    }

    @Test
    void aRestartWaitIsRecordedAndCalledOffAndNoLaterExitOverwritesIt() {
        Lifecycle l = life;
        l.created(new ProcessId(10, 100), new ProcessId(9, 99));
        l.started();
        assertThat(l.status()).as("not ended yet: nothing to wait for").isEqualTo(ContainerStatus.RUNNING);
        l.exited(ExitStatus.exited(1));
        l.restarting();
        assertThat(l.status()).isEqualTo(ContainerStatus.RESTARTING);
        assertThat(written.get(written.size() - 1).status()).isEqualTo("restarting");
        l.exited(ExitStatus.exited(2)); // a second report of the end changes nothing
        assertThat(l.state().exit().exitCode()).isEqualTo(1);
        assertThat(l.paused()).isFalse();
        l.restartCalledOff();
        assertThat(l.status()).isEqualTo(ContainerStatus.EXITED);
        assertThat(written.get(written.size() - 1).status()).isEqualTo("exited");
    }
}
