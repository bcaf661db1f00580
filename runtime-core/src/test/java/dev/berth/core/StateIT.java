package dev.berth.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.core.internal.state.ProcessId;
import dev.berth.core.internal.state.SpecDocument;
import dev.berth.core.internal.state.StateDocument;
import dev.berth.core.internal.state.StateJson;
import dev.berth.core.testing.ContainerTestSupport;
import dev.berth.core.testing.HostCommand;
import dev.berth.testing.RequiresRoot;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The state root on a real kernel: what the state file says through a container's life, status
 * transitions, listing across runtimes, and reconciling states that name processes which are not
 * (or no longer) a container's: a reused pid, a forged file, a foreign directory, a mount below a
 * writable layer.
 */
@RequiresRoot
class StateIT extends ContainerTestSupport {

    private static StateDocument read(String id) throws IOException {
        return StateJson.read(Files.readAllBytes(stateRoot.resolve(id).resolve("state.json")));
    }

    @Test
    void theStateFollowsRunningPausedRunningExited() throws Exception {
        try (Container c = runtime.start("st-pause", probe("spin").build())) {
            StateDocument s = read("st-pause");
            assertThat(s.status()).isEqualTo("running");
            assertThat(s.init().id()).isEqualTo(ProcessId.of(c.pid()));
            assertThat(ProcessId.of(s.monitor().pid()).startTime()).isEqualTo(s.monitor().startTime());
            assertThat(s.cgroup()).isNotEmpty().allMatch(p -> p.endsWith("/berth/st-pause"));
            assertThat(s.spec().toSpec().command()).containsExactly("/bin/probe", "spin");
            assertThat(s.created()).isNotNull();
            assertThat(s.started()).isNotNull();

            c.pause();
            assertThat(c.status()).isEqualTo(ContainerStatus.PAUSED);
            assertThat(read("st-pause").status()).isEqualTo("paused");
            assertThatThrownBy(c::pause).isInstanceOf(ContainerStateException.class)
                    .hasMessage("pause: container st-pause is not running (status paused)");
            c.resume();
            assertThat(read("st-pause").status()).isEqualTo("running");
            assertThatThrownBy(c::resume).isInstanceOf(ContainerStateException.class)
                    .hasMessage("resume: container st-pause is not paused (status running)");

            c.pause();
            c.kill(); // a paused container is killed all the same (thawed first by close, here by the kill's cgroup)
            c.resume();
            assertThat(c.waitFor(Duration.ofSeconds(20))).isTrue();
            assertThat(c.status()).isEqualTo(ContainerStatus.EXITED);
            assertThatThrownBy(c::pause).isInstanceOf(ContainerStateException.class)
                    .hasMessage("pause: container st-pause is not running (status exited)");
            StateDocument end = read("st-pause");
            assertThat(end.status()).isEqualTo("exited");
            assertThat(end.exit().toExitStatus()).isEqualTo(ExitStatus.killed(9));
            assertThat(end.finished()).isNotNull();
        }
        assertThat(stateRoot.resolve("st-pause")).doesNotExist();
        assertThat(stateRoot.resolve(".st-pause.lock")).doesNotExist();
    }

    @Test
    void waitForAndTheFinalFiguresAfterTheExit() throws Exception {
        // a memory limit puts it in the memory controller (on a hybrid host only then), which keeps the peak
        try (Container c = runtime.start(probe("hog", "16")
                .resources(dev.berth.cgroups.Resources.builder().memoryMax(256L << 20).build()).build())) {
            assertThat(c.waitFor(Duration.ofSeconds(30))).isTrue();
            assertThat(c.waitFor()).isEqualTo(ExitStatus.exited(0));
            // the cgroup is removed after the exit; its last figures stay until close
            Thread.sleep(300);
            var stats = c.stats();
            assertThat(stats.cpu().available()).isTrue();
            assertThat(stats.cpu().usageUsec()).isPositive();
            assertThat(stats.memory().peak()).isGreaterThan(16L << 20);
            StateDocument s = read(c.id());
            assertThat(s.cgroup()).isEmpty();
            assertThat(s.usage().cpuUsageUsec()).isEqualTo(stats.cpu().usageUsec());
            assertThat(s.usage().memoryPeakBytes()).isGreaterThan(16L << 20);
            c.close();
            assertThatThrownBy(c::stats).hasMessageContaining("closed");
        }
        try (Container c = runtime.start(probe("sleep", "30").build())) {
            assertThat(c.waitFor(Duration.ofMillis(200))).isFalse();
        }
    }

    @Test
    void theStateIsPrivate() throws Exception {
        try (Container c = runtime.start(probe("sleep", "30").build())) {
            assertThat(perms(stateRoot.resolve(c.id()))).isEqualTo("rwx------");
            assertThat(perms(stateRoot.resolve(c.id()).resolve("state.json"))).isEqualTo("rw-------");
            assertThat(perms(stateRoot.resolve("." + c.id() + ".lock"))).isEqualTo("rw-------");
        }
    }

    private static String perms(Path p) throws IOException {
        return PosixFilePermissions.toString(Files.getPosixFilePermissions(p));
    }

    @Test
    void anotherRuntimeOnTheRootListsButNeverTouchesALiveRuntimesContainers() throws Exception {
        try (Container c = runtime.start("st-live", probe("sleep", "30").build());
                ContainerRuntime other = ContainerRuntime.builder().stateRoot(stateRoot)
                        .storageRoot(tmp.resolve("storage")).build()) {
            assertThat(other.reconcile().removed()).doesNotContain("st-live");
            ContainerInfo info = other.list().stream().filter(i -> i.id().equals("st-live")).findFirst().orElseThrow();
            assertThat(info.owner()).isEqualTo(ContainerInfo.Owner.ANOTHER_RUNTIME);
            assertThat(info.status()).isEqualTo(ContainerStatus.RUNNING);
            assertThat(info.pid()).isEqualTo(c.pid());
            assertThat(info.rootfs()).isPresent();
            assertThatThrownBy(() -> other.start("st-live", probe("true").build()))
                    .isInstanceOf(ContainerException.class).hasMessage("container st-live: already exists");
            assertThat(runtime.list()).filteredOn(i -> i.id().equals("st-live"))
                    .singleElement().extracting(ContainerInfo::owner).isEqualTo(ContainerInfo.Owner.THIS_RUNTIME);
            assertThat(c.isRunning()).isTrue();
            assertThat(read("st-live").status()).isEqualTo("running");
        }
    }

    /** A state left by a dead runtime, naming {@code pid} with {@code startTime} as init and monitor. */
    private static void orphan(String id, long pid, long startTime) throws IOException {
        Path dir = stateRoot.resolve(id);
        Files.createDirectories(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        StateDocument d = new StateDocument(StateDocument.SCHEMA, id, "running",
                new StateDocument.ProcessDoc(pid, startTime), new StateDocument.ProcessDoc(pid, startTime),
                List.of("/sys/fs/cgroup/pids/berth/" + id), null, "/", SpecDocument.of(probe("true").build()),
                "2026-01-01T00:00:00Z", "2026-01-01T00:00:01Z", null, null, 0, null, null, null);
        Files.write(dir.resolve("state.json"), StateJson.write(d));
    }

    @Test
    void aReusedPidIsNeverSignalled() throws Exception {
        Process unrelated = new ProcessBuilder("sleep", "600").start();
        try {
            long pid = unrelated.pid();
            long start = ProcessId.startTime(pid);
            orphan("st-reused", pid, start - 1); // the container's init had this pid; the pid is someone else's now
            orphan("st-forged", pid, start); // the right start time (anyone can read it), but not berth-init
            assertThatThrownBy(() -> runtime.files("st-reused").copyFrom("/")).hasMessageContaining(
                    "the pid now belongs to another process");
            assertThatThrownBy(() -> runtime.files("st-forged").copyFrom("/")).hasMessageContaining(
                    "the pid now belongs to another process");
            Reconciliation r = runtime.reconcile();
            assertThat(r.removed()).contains("st-reused", "st-forged");
            assertThat(unrelated.waitFor(1, TimeUnit.SECONDS)).as("the unrelated process is alive").isFalse();
            assertThat(unrelated.isAlive()).isTrue();
            assertThat(stateRoot.resolve("st-reused")).doesNotExist();
        } finally {
            unrelated.destroyForcibly();
        }
    }

    @Test
    void aStateDirectoryOfAnotherUserIsNeitherReadNorRemoved() throws Exception {
        Process unrelated = new ProcessBuilder("sleep", "600").start();
        try {
            orphan("st-foreign", unrelated.pid(), ProcessId.startTime(unrelated.pid()));
            HostCommand.run("chown", "-R", "65534:65534", stateRoot.resolve("st-foreign").toString());
            assertThat(runtime.list()).noneMatch(i -> i.id().equals("st-foreign"));
            Reconciliation r = runtime.reconcile();
            assertThat(r.removed()).doesNotContain("st-foreign");
            assertThat(stateRoot.resolve("st-foreign/state.json")).exists();
            assertThat(unrelated.isAlive()).isTrue();
            assertThatThrownBy(() -> runtime.start("st-foreign", probe("true").build()))
                    .hasMessageContaining("st-foreign");
        } finally {
            unrelated.destroyForcibly();
            HostCommand.run("rm", "-rf", stateRoot.resolve("st-foreign").toString(),
                    stateRoot.resolve(".st-foreign.lock").toString());
        }
    }

    @Test
    void aWritableLayerWithAMountBelowIsLeftWithItsStateUntilTheMountIsGone() throws Exception {
        Path layer = tmp.resolve("storage/containers/st-mounted/upper/data");
        Files.createDirectories(layer);
        Path victim = Files.createDirectories(tmp.resolve("victim"));
        Files.writeString(victim.resolve("keep"), "precious");
        orphan("st-mounted", 0, -1);
        HostCommand.run("mount", "--bind", victim.toString(), layer.toString());
        try {
            Reconciliation r = runtime.reconcile();
            assertThat(r.failed()).containsKey("st-mounted");
            assertThat(r.failed().get("st-mounted")).contains("is mounted below it");
            assertThat(victim.resolve("keep")).hasContent("precious");
            assertThat(stateRoot.resolve("st-mounted/state.json")).exists();
        } finally {
            HostCommand.run("umount", layer.toString());
        }
        assertThat(runtime.reconcile().removed()).contains("st-mounted");
        assertThat(tmp.resolve("storage/containers/st-mounted")).doesNotExist();
        assertThat(victim.resolve("keep")).hasContent("precious");
    }

    @Test
    void anIdADeadRuntimeLeftIsCleanedUpWhenStartedAgain() throws Exception {
        orphan("st-again", 0, -1);
        Files.createDirectories(tmp.resolve("storage/containers/st-again/upper"));
        try (Container c = runtime.start("st-again", probe("exit", "3").build())) {
            assertThat(c.waitFor()).isEqualTo(ExitStatus.exited(3));
        }
        assertThat(tmp.resolve("storage/containers/st-again")).doesNotExist();
        assertThat(stateRoot.resolve("st-again")).doesNotExist();
    }
}
