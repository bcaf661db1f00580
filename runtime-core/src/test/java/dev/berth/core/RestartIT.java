package dev.berth.core;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.cloud.tools.jib.api.Containerizer;
import com.google.cloud.tools.jib.api.Jib;
import com.google.cloud.tools.jib.api.TarImage;
import com.google.cloud.tools.jib.api.buildplan.AbsoluteUnixPath;
import com.google.cloud.tools.jib.api.buildplan.FileEntriesLayer;
import com.google.cloud.tools.jib.api.buildplan.FilePermissions;
import dev.berth.core.testing.BusyboxRootfs;
import dev.berth.core.testing.ContainerTestSupport;
import dev.berth.image.ImportProgress;
import dev.berth.testing.RequiresRoot;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Restart policies on real containers: the handle, its id and its writable layer outlive each incarnation. */
@RequiresRoot
class RestartIT extends ContainerTestSupport {
    static Path rootfs;

    @BeforeAll
    static void busybox() throws Exception {
        rootfs = BusyboxRootfs.create(tmp.resolve("busybox-root"));
    }

    private static ContainerSpec.Builder sh(String script) {
        return ContainerSpec.builder().rootfs(rootfs).command("/bin/sh", "-c", script).stdout(Stdio.discard());
    }

    private static List<ContainerEvent> recorder(Container c, List<ContainerEvent> into) {
        c.events(into::add);
        return into;
    }

    @Test
    void onFailureTwoRestartsTwiceWithGrowingIntervalsThenStaysExited() throws Exception {
        List<ContainerEvent> events = Collections.synchronizedList(new ArrayList<>());
        runtime.events(e -> {
            if (e.attributes().containsKey("rootfs")) {
                events.add(e);
            }
        });
        try (Container c = runtime.start(sh("exit 3").restart(RestartPolicy.onFailure(2)).build())) {
            ExitStatus last = c.onExit().get(60, TimeUnit.SECONDS);
            assertThat(last).isEqualTo(ExitStatus.exited(3));
            assertThat(c.restartCount()).isEqualTo(2);
            assertThat(c.isRunning()).isFalse();
            assertThat(c.status()).isEqualTo(ContainerStatus.EXITED);
            String state = Files.readString(stateRoot.resolve(c.id()).resolve("state.json"));
            assertThat(state).contains("\"restartCount\":2");
            waitFor(() -> mine(events, c).stream().filter(e -> e.type() == ContainerEvent.Type.EXITED).count() == 3);
            List<ContainerEvent> mine = mine(events, c);
            List<Long> delays = mine.stream().filter(e -> e.type() == ContainerEvent.Type.RESTARTING)
                    .map(e -> Long.parseLong(e.attributes().get("delayMillis"))).toList();
            assertThat(delays).containsExactly(100L, 200L);
            assertThat(mine.stream().filter(e -> e.type() == ContainerEvent.Type.RESTARTING)
                    .map(e -> e.attributes().get("restartCount")).toList()).containsExactly("1", "2");
            // each restart came after its wait: the next start is at least the delay after the exit before it
            List<ContainerEvent> exits = mine.stream().filter(e -> e.type() == ContainerEvent.Type.EXITED).toList();
            List<ContainerEvent> starts = mine.stream().filter(e -> e.type() == ContainerEvent.Type.STARTED).toList();
            assertThat(starts).hasSize(3);
            for (int i = 0; i < 2; i++) {
                assertThat(Duration.between(exits.get(i).time(), starts.get(i + 1).time()).toMillis())
                        .isGreaterThanOrEqualTo(delays.get(i) - 5);
            }
            Thread.sleep(500);
            assertThat(c.restartCount()).isEqualTo(2); // no third
        }
    }

    private static List<ContainerEvent> mine(List<ContainerEvent> events, Container c) {
        synchronized (events) {
            return events.stream().filter(e -> e.id().equals(c.id())).toList();
        }
    }

    /**
     * From its first run to its last, list() shows a restarting container, by this runtime and by another
     * on the same root (berth ps): running or restarting, never missing, created or exited in between; and
     * always with its first creation time (docker's and podman's CREATED).
     */
    @Test
    void listShowsARestartingContainerThroughoutWithItsFirstCreationTime() throws Exception {
        try (ContainerRuntime other = ContainerRuntime.builder().stateRoot(stateRoot).storageRoot(tmp.resolve("storage"))
                .reconcile(false).build();
                Container c = runtime.start(sh("sleep 0.2; exit 1").restart(RestartPolicy.onFailure(6)).build())) {
            java.time.Instant created = null;
            java.util.Set<String> seen = new java.util.TreeSet<>();
            int polls = 0;
            while (c.isRunning()) {
                for (ContainerRuntime r : List.of(runtime, other)) {
                    List<ContainerInfo> l = r.list();
                    polls++;
                    if (!c.isRunning()) {
                        break; // ended for good: exited from now on
                    }
                    ContainerInfo i = l.stream().filter(x -> x.id().equals(c.id())).findFirst().orElseThrow(
                            () -> new AssertionError("not listed while restarting (restart " + c.restartCount() + ")"));
                    if (i.status() == ContainerStatus.EXITED && i.restartCount() == 6) {
                        break; // its last run (on-failure:6 spent) ended for good
                    }
                    assertThat(i.status()).as("listed status at restart " + i.restartCount())
                            .isIn(ContainerStatus.RUNNING, ContainerStatus.RESTARTING);
                    seen.add(i.status().label());
                    created = created == null ? i.created() : created;
                    assertThat(i.created()).isEqualTo(created);
                }
            }
            assertThat(c.onExit().get(30, TimeUnit.SECONDS)).isEqualTo(ExitStatus.exited(1));
            assertThat(c.restartCount()).isEqualTo(6);
            assertThat(seen).contains("restarting");
            assertThat(polls).isGreaterThan(20);
            ContainerInfo last = runtime.list().stream().filter(x -> x.id().equals(c.id())).findFirst().orElseThrow();
            assertThat(last.created()).isEqualTo(created);
            assertThat(last.started().orElseThrow()).isAfter(created);
            assertThat(Files.readString(stateRoot.resolve(c.id()).resolve("state.json")))
                    .contains("\"created\":\"" + created + "\"");
        }
    }

    @Test
    void alwaysRestartsUntilStopAndAStoppedContainerStaysStopped() throws Exception {
        try (Container c = runtime.start(sh("sleep 0.1; exit 0").restart(RestartPolicy.always()).build())) {
            long firstPid = c.pid();
            waitFor(() -> c.restartCount() >= 2);
            assertThat(c.isRunning()).isTrue();
            waitFor(() -> c.pid() != firstPid);
            ExitStatus s = c.stop(Duration.ofSeconds(5));
            assertThat(s).isNotNull();
            assertThat(c.onExit()).isDone();
            assertThat(c.isRunning()).isFalse();
            int count = c.restartCount();
            Thread.sleep(1500); // longer than any backoff so far
            assertThat(c.restartCount()).isEqualTo(count);
            assertThat(c.status()).isEqualTo(ContainerStatus.EXITED);
            assertThat(ProcessIds.alive(c.pid())).isFalse();
        }
    }

    @Test
    void killIsNeverUndoneEitherAndCloseReleasesEverything() throws Exception {
        Container c = runtime.start(sh("sleep 1000").restart(RestartPolicy.always()).build());
        String id = c.id();
        c.kill();
        assertThat(c.onExit().get(30, TimeUnit.SECONDS).terminatingSignal()).isPresent();
        Thread.sleep(500);
        assertThat(c.restartCount()).isZero();
        c.close();
        assertThat(Files.exists(stateRoot.resolve(id))).isFalse();
        assertThat(runtime.containers()).doesNotContain(c);
    }

    @Test
    void theWritableLayerSurvivesARestart() throws Exception {
        Path tar = tmp.resolve("busybox-image.tar");
        Jib.fromScratch()
                .addFileEntriesLayer(FileEntriesLayer.builder()
                        .addEntry(Path.of("/bin/busybox"), AbsoluteUnixPath.get("/bin/busybox"),
                                FilePermissions.fromOctalString("755"))
                        .build())
                .setEntrypoint("/bin/busybox", "sh", "-c")
                .containerize(Containerizer.to(TarImage.at(tar).named("it/busybox-restart:1"))
                        .setBaseImageLayersCache(tmp.resolve("jib-cache"))
                        .setApplicationLayersCache(tmp.resolve("jib-app-cache")));
        String image = runtime.images().importImage(tar, Optional.empty(), ImportProgress.NONE).name();
        // the first incarnation leaves a file in its writable layer and fails; the second finds it and succeeds
        String script = "if [ -f /mark ]; then exit 0; fi; echo first > /mark; exit 1";
        try (Container c = runtime.start(ContainerSpec.builder().image(image).command(script)
                .stdout(Stdio.discard()).restart(RestartPolicy.onFailure(3)).build())) {
            assertThat(c.onExit().get(60, TimeUnit.SECONDS)).isEqualTo(ExitStatus.exited(0));
            assertThat(c.restartCount()).isEqualTo(1);
            Path upper = runtime.storageRoot().resolve("containers").resolve(c.id()).resolve("upper");
            assertThat(upper.resolve("mark")).hasContent("first");
        }
    }

    /** A Jib image of busybox and a /version file, imported under {@code name} (which then names it). */
    private static void importVersion(String name, String version) throws Exception {
        Path file = tmp.resolve("version-" + version);
        Files.writeString(file, version + "\n");
        Path tar = tmp.resolve("image-" + version + ".tar");
        Jib.fromScratch()
                .addFileEntriesLayer(FileEntriesLayer.builder()
                        .addEntry(Path.of("/bin/busybox"), AbsoluteUnixPath.get("/bin/busybox"),
                                FilePermissions.fromOctalString("755"))
                        .build())
                .addFileEntriesLayer(FileEntriesLayer.builder()
                        .addEntry(file, AbsoluteUnixPath.get("/version"), FilePermissions.fromOctalString("644"))
                        .build())
                .setEntrypoint("/bin/busybox", "sh", "-c")
                .containerize(Containerizer.to(TarImage.at(tar).named(name))
                        .setBaseImageLayersCache(tmp.resolve("jib-cache"))
                        .setApplicationLayersCache(tmp.resolve("jib-app-cache-" + version)));
        runtime.images().importImage(tar, Optional.of(name), ImportProgress.NONE);
    }

    /**
     * docker's restart runs the image the container was created from: a new build imported under the
     * same name (or pulled) while it runs changes nothing for it, its restarts included. The name here is
     * even removed before the restart, so only the container's pin keeps the first image.
     */
    @Test
    void aRestartRunsTheImageTheContainerWasCreatedFromAfterItsNameMoved() throws Exception {
        String name = "it/moving-" + Long.toHexString(System.nanoTime()) + ":1";
        importVersion(name, "one");
        Path ctl = Files.createDirectories(tmp.resolve("ctl-" + Long.toHexString(System.nanoTime())));
        // the first run waits for the go, then fails; the second reports which image it runs and succeeds
        String script = "if [ -f /mark ]; then /bin/busybox cat /version > /ctl/seen; exit 0; fi; : > /mark;"
                + " while [ ! -f /ctl/go ]; do /bin/busybox sleep 0.05; done; exit 1";
        try (Container c = runtime.start(ContainerSpec.builder().image(name).command(script)
                .mount(Mount.bind(ctl, "/ctl")).stdout(Stdio.discard()).restart(RestartPolicy.onFailure(3)).build())) {
            importVersion(name, "two"); // the name moves to a new build, while the first run runs
            try (var imgs = runtime.images().prepare(name)) {
                assertThat(imgs.lowerDirs().get(0).resolve("version")).hasContent("two");
            }
            assertThat(runtime.images().remove(name)).isTrue(); // and is removed: only the pin keeps "one"
            Files.writeString(ctl.resolve("go"), "");
            assertThat(c.onExit().get(60, TimeUnit.SECONDS)).isEqualTo(ExitStatus.exited(0));
            assertThat(c.restartCount()).isEqualTo(1);
            assertThat(ctl.resolve("seen")).hasContent("one");
        }
    }

    @Test
    void anExplicitStopDuringTheBackoffCancelsTheRestart() throws Exception {
        try (Container c = runtime.start(sh("exit 1").restart(RestartPolicy.onFailure()).build())) {
            waitFor(() -> c.restartCount() >= 4); // the waits grow: 100, 200, 400, 800 ms
            ExitStatus s = c.stop(Duration.ofSeconds(5));
            assertThat(s).isEqualTo(ExitStatus.exited(1));
            int count = c.restartCount();
            Thread.sleep(2000);
            assertThat(c.restartCount()).isEqualTo(count);
        }
    }

    @Test
    void aStopAtAnyMomentOfTheRestartCycleEndsItForGoodAndLeavesNothing() throws Exception {
        java.util.Random random = new java.util.Random(42);
        for (int i = 0; i < 12; i++) {
            Container c = runtime.start(sh(i % 2 == 0 ? "exit 0" : "sleep 0.05; exit 1")
                    .restart(RestartPolicy.always()).build());
            String id = c.id();
            List<Long> pids = Collections.synchronizedList(new ArrayList<>());
            c.events(e -> {
                if (e.type() == ContainerEvent.Type.CREATED) {
                    pids.add(Long.parseLong(e.attributes().get("pid")));
                }
            });
            Thread.sleep(random.nextInt(400)); // in a run, an exit, a backoff or a relaunch
            if (i % 3 == 0) {
                c.kill();
            } else {
                c.stop(Duration.ofSeconds(5));
            }
            assertThat(c.onExit().get(30, TimeUnit.SECONDS)).isNotNull();
            int count = c.restartCount();
            Thread.sleep(300);
            assertThat(c.restartCount()).as("restarted after a stop").isEqualTo(count);
            c.close();
            assertThat(Files.exists(stateRoot.resolve(id))).isFalse();
            assertThat(Files.exists(runtime.storageRoot().resolve("containers").resolve(id))).isFalse();
            synchronized (pids) {
                assertThat(pids).allSatisfy(p -> assertThat(ProcessIds.alive(p)).isFalse());
            }
            runtime.cgroupDriver().ifPresent(d -> assertThat(runtime.list().stream().map(ContainerInfo::id))
                    .doesNotContain(id));
        }
    }

    static void waitFor(java.util.function.BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("condition not met within 60 s");
            }
            Thread.sleep(20);
        }
    }

    /** Whether a process with that pid still runs (not a zombie). */
    static final class ProcessIds {
        static boolean alive(long pid) {
            return !dev.berth.core.internal.state.ProcessId.hasEnded(pid);
        }
    }
}
