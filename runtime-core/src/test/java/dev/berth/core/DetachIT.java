package dev.berth.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.core.testing.TempRootsSupport;
import dev.berth.testing.RequiresCgroups;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Detached containers: they outlive the runtime that started them, a later runtime on the same roots
 * finds them running (its reconcile never kills them), follows, stops and removes them; their output
 * is captured by the monitor to rotated JSON-lines files, with nothing lost while no JVM is attached.
 */
@RequiresCgroups
class DetachIT extends TempRootsSupport {
    DetachIT() {
        super("dt", Duration.ZERO);
    }

    private ContainerSpec.Builder shell(String script) {
        return ContainerSpec.builder().rootfs(rootfs).command("/bin/sh", "-c", script);
    }

    /** Prints 0, 1, 2, ... a line each, every 20 ms, until stopped. */
    private static final String COUNTER = "i=0; while true; do echo $i; i=$((i+1)); sleep 0.02; done";

    private static List<Integer> numbers(List<LogEntry> entries) {
        return entries.stream().filter(e -> !e.isStderr()).map(e -> Integer.parseInt(e.text())).toList();
    }

    private static void assertNoGaps(List<Integer> numbers) {
        assertThat(numbers).isNotEmpty();
        for (int i = 0; i < numbers.size(); i++) {
            assertThat(numbers.get(i)).as("line %d of %s", i, numbers.size()).isEqualTo(numbers.get(0) + i);
        }
    }

    private static List<LogEntry> logs(Container c, LogQuery q) {
        try (Stream<LogEntry> s = c.logs(q)) {
            return s.toList();
        }
    }

    private static void awaitLines(Container c, int n) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (logs(c, LogQuery.ALL).size() < n) {
            assertThat(System.nanoTime()).as("%d lines within 30 s", n).isLessThan(deadline);
            Thread.sleep(20);
        }
    }

    private static boolean alive(long pid) {
        return ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false);
    }

    @Test
    void aDetachedContainerOutlivesItsRuntimeAndTheNextOneFollowsStopsAndRemovesIt() throws Exception {
        long pid;
        ContainerRuntime first = runtime();
        Container started = first.start(id("svc"), shell(COUNTER).detached(true).build());
        pid = started.pid();
        awaitLines(started, 5);
        int beforeDetach = logs(started, LogQuery.ALL).size();
        first.close(); // lets go of it: the container goes on
        assertThat(alive(pid)).as("container init after its runtime closed").isTrue();
        Thread.sleep(300); // lines written while no JVM is attached

        ContainerRuntime second = runtime(); // its reconcile must leave a running detached container alone
        assertThat(alive(pid)).as("container init after a new runtime reconciled").isTrue();
        ContainerInfo info = second.list().stream().filter(i -> i.id().equals(id("svc"))).findFirst().orElseThrow();
        assertThat(info.status()).isEqualTo(ContainerStatus.RUNNING);
        assertThat(info.owner()).isEqualTo(ContainerInfo.Owner.DETACHED);
        Container c = second.container(id("svc")).orElseThrow();
        assertThat(c.isRunning()).isTrue();
        assertThat(c.pid()).isEqualTo(pid);
        assertThat(c.stats().pids()).isPositive();

        ExitStatus how = c.stop(Duration.ofSeconds(10));
        assertThat(how).isEqualTo(ExitStatus.killed(15));
        assertThat(c.status()).isEqualTo(ContainerStatus.EXITED);
        assertThat(alive(pid)).isFalse();
        List<Integer> n = numbers(logs(c, LogQuery.ALL));
        assertThat(n.get(0)).isZero();
        assertNoGaps(n);
        assertThat(n.size()).as("lines written while no JVM was attached are kept").isGreaterThan(beforeDetach + 3);

        // an exited container stays until removed (docker's exited containers), and its id stays taken
        assertThat(second.list()).extracting(ContainerInfo::id).contains(id("svc"));
        assertThatThrownBy(() -> second.start(id("svc"), shell("true").build())).isInstanceOf(ContainerException.class)
                .hasMessageContaining("already exists");
        ContainerRuntime third = runtime();
        Container again = third.container(id("svc")).orElseThrow();
        assertThat(again.onExit().get(10, TimeUnit.SECONDS)).isEqualTo(ExitStatus.killed(15));
        assertNoGaps(numbers(logs(again, LogQuery.ALL)));
        third.remove(id("svc"), false);
        assertThat(third.container(id("svc"))).isEmpty();
        assertThat(storageRoot.resolve("containers").resolve(id("svc"))).doesNotExist();
    }

    /**
     * The monitor is handed the state and log directories as fds (to write {@code exit} and the log);
     * nothing of the container may hold one (CVE-2024-21626 class: a host directory reached through
     * {@code /proc/self/fd/N}). Checked while a runtime follows the container and after it let go.
     */
    @Test
    void aDetachedContainersInitAndTargetHoldNoFdOfTheHostAndTheMonitorOnlyItsTwoDirectories() throws Exception {
        ContainerRuntime first = runtime();
        Container c = first.start(id("fds"), shell(COUNTER).detached(true).build());
        awaitLines(c, 3);
        long init = c.pid();
        long monitor = ProcessHandle.of(init).flatMap(ProcessHandle::parent).orElseThrow().pid();
        assertThat(Files.readSymbolicLink(Path.of("/proc/" + monitor + "/exe")).toString()).startsWith("/memfd:berth-init");
        String children = Files.readString(Path.of("/proc/" + init + "/task/" + init + "/children")).trim();
        assertThat(children).as("the init's one child, the target").matches("\\d+");
        long target = Long.parseLong(children);
        for (String when : List.of("followed by its runtime", "after its runtime let go of it")) {
            java.util.Map<Integer, String> initFds = fds(init);
            java.util.Map<Integer, String> targetFds = fds(target);
            java.util.Map<Integer, String> monitorFds = fds(monitor);
            // the target: its stdio only, stdin /dev/null, stdout and stderr the monitor's pipes
            assertThat(targetFds.keySet()).as("target's fds %s: %s", when, targetFds).containsExactlyInAnyOrder(0, 1, 2);
            assertThat(targetFds.get(0)).as(when).isEqualTo("/dev/null");
            assertThat(targetFds.get(1)).as(when).startsWith("pipe:");
            assertThat(targetFds.get(2)).as(when).startsWith("pipe:");
            // the init: its stdio and the start protocol's pipes; nothing with a path but /dev/null
            assertThat(initFds.values()).as("init's fds %s: %s", when, initFds)
                    .allMatch(l -> l.startsWith("pipe:") || l.equals("/dev/null"));
            for (long pid : new long[] {init, target}) {
                for (int fd : fds(pid).keySet()) {
                    assertThat(Files.isDirectory(Path.of("/proc/" + pid + "/fd/" + fd))).as("fd %d of %d is a directory (%s)",
                            fd, pid, when).isFalse();
                    assertThat(flags(pid, fd) & 0200000).as("fd %d of %d opened O_DIRECTORY (%s)", fd, pid, when).isZero();
                }
            }
            // the monitor: of the host's files only the directories it writes into and the log file
            List<String> paths = monitorFds.values().stream().filter(l -> l.startsWith("/")).distinct().sorted().toList();
            Path state = stateRoot.resolve(id("fds")).toRealPath();
            assertThat(paths).as("monitor's fds %s: %s", when, monitorFds).hasSize(4).contains("/dev/null", state.toString())
                    .anyMatch(l -> l.endsWith("/container.log"));
            Path logDir = Path.of(paths.stream().filter(l -> l.endsWith("/container.log")).findFirst().orElseThrow()).getParent();
            assertThat(paths).containsExactlyInAnyOrder("/dev/null", state.toString(), logDir.toString(),
                    logDir.resolve("container.log").toString());
            assertThat(logDir.startsWith(storageRoot.toRealPath())).as("log directory %s", logDir).isTrue();
            if (when.startsWith("followed")) {
                first.close(); // lets go of it: the container goes on
                assertThat(alive(target)).isTrue();
            }
        }
        Container again = runtime().container(id("fds")).orElseThrow();
        assertThat(again.stop(Duration.ofSeconds(10))).isEqualTo(ExitStatus.killed(15));
    }

    /**
     * A burst of output touches the monitor's read, line and record buffers (about 160 KiB); once the
     * pipes are quiet for a second it gives those pages back, and the capture still has every byte.
     */
    @Test
    void aMonitorGivesItsLogBuffersBackOnceTheBurstIsOverAndLosesNothing() throws Exception {
        ContainerRuntime r = runtime();
        try (Container c = r.start(shell("yes 0123456789abcde | head -c 1048576; exec sleep 3600")
                .logging(LogConfig.DEFAULT).build())) { // 65,536 lines of 16 bytes
            long monitor = ProcessHandle.of(c.pid()).flatMap(ProcessHandle::parent).orElseThrow().pid();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            List<LogEntry> got;
            while ((got = logs(c, LogQuery.ALL)).size() < 65536) {
                assertThat(System.nanoTime()).as("1 MiB captured within 30 s (%d lines)", got.size()).isLessThan(deadline);
                Thread.sleep(50);
            }
            assertThat(got).hasSize(65536).allMatch(e -> e.text().equals("0123456789abcde") && !e.isStderr());
            Thread.sleep(2500); // quiet for longer than the monitor's idle timeout (1 s)
            long anon = smapsRollup(monitor, "Anonymous:");
            // the monitor's own anonymous memory (heap, stack, data) is about 60 KiB; with the buffers
            // a burst touched still resident it would be 160 KiB more
            assertThat(anon).as("monitor's anonymous KiB after the burst").isLessThan(112);
            assertThat(c.isRunning()).isTrue();
        }
    }

    private static long smapsRollup(long pid, String field) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/smaps_rollup"))) {
            if (line.startsWith(field)) {
                return Long.parseLong(line.substring(field.length()).trim().split("\\s+")[0]);
            }
        }
        throw new IllegalStateException("no " + field + " in /proc/" + pid + "/smaps_rollup");
    }

    /** fd number → its /proc link (a path, or pipe:[N], socket:[N], anon_inode:...). */
    private static java.util.Map<Integer, String> fds(long pid) throws IOException {
        java.util.Map<Integer, String> out = new java.util.TreeMap<>();
        try (Stream<Path> s = Files.list(Path.of("/proc/" + pid + "/fd"))) {
            for (Path p : s.toList()) {
                try {
                    out.put(Integer.parseInt(p.getFileName().toString()), Files.readSymbolicLink(p).toString());
                } catch (java.nio.file.NoSuchFileException e) {
                    // closed meanwhile
                }
            }
        }
        return out;
    }

    /** The open flags of fd (octal in /proc/PID/fdinfo/FD). */
    private static int flags(long pid, int fd) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/fdinfo/" + fd))) {
            if (line.startsWith("flags:")) {
                return Integer.parseInt(line.substring(6).trim(), 8);
            }
        }
        throw new IllegalStateException("no flags in /proc/" + pid + "/fdinfo/" + fd);
    }

    @Test
    void logsFollowFromTheStartSeeEveryLineUntilTheEndAcrossRotations() throws Exception {
        ContainerRuntime r = runtime();
        // ~70 bytes of log a line and 4 KiB a file: a rotation every ~60 lines, 3 files kept; the first
        // 500 lines at a pace a follower polling every 100 ms keeps up with, then a burst
        Container c = r.start(id("rot"), shell("i=0; while [ $i -lt 3000 ]; do echo $i; i=$((i+1));"
                + " if [ $i -lt 500 ]; then sleep 0.005; fi; done")
                .detached(true).logging(LogConfig.of(4096, 3)).build());
        List<Integer> seen;
        try (Stream<LogEntry> s = c.logs(LogQuery.builder().follow(true).build())) {
            seen = numbers(s.toList());
        }
        assertThat(c.onExit().get(30, TimeUnit.SECONDS)).isEqualTo(ExitStatus.exited(0));
        // a follower that keeps up loses nothing to rotation (one that falls 2 files behind would, in
        // the burst: then what it sees jumps ahead, but never goes back or repeats)
        assertThat(seen.get(0)).isZero();
        assertNoGaps(seen.subList(0, 400)); // a follower polling every 100 ms trails by a few lines: not 2 files
        assertThat(seen).isSorted().doesNotHaveDuplicates();
        assertThat(seen.get(seen.size() - 1)).isEqualTo(2999);
        // what is kept is bounded by the rotation
        Path dir = storageRoot.resolve("containers").resolve(id("rot"));
        List<String> files;
        try (Stream<Path> s = Files.list(dir)) {
            files = s.map(p -> p.getFileName().toString()).filter(f -> f.startsWith("container.log")).sorted().toList();
        }
        assertThat(files).containsExactly("container.log", "container.log.1", "container.log.2");
        for (String f : files) {
            assertThat(Files.size(dir.resolve(f))).as(f).isLessThanOrEqualTo(4096 + 128);
        }
        List<Integer> kept = numbers(logs(c, LogQuery.ALL));
        assertNoGaps(kept);
        assertThat(kept.get(kept.size() - 1)).isEqualTo(2999);
        assertThat(kept.size()).isLessThan(3000);
        assertThat(numbers(logs(c, LogQuery.builder().tail(5).build()))).containsExactly(2995, 2996, 2997, 2998, 2999);
        c.close();
        r.remove(id("rot"), false);
    }

    @Test
    void streamsPartialLinesLongLinesAndBytesThatAreNotUtf8() throws Exception {
        ContainerRuntime r = runtime();
        String script = "echo out; echo err >&2; printf 'caf\\303\\251 \\377\\n'; "
                + "head -c 40000 /dev/zero | tr '\\0' x; echo; printf 'no newline at the end'";
        // tr is not linked: use busybox directly
        script = script.replace("tr '", "busybox tr '");
        try (Container c = r.start(shell(script).logging(LogConfig.DEFAULT).build())) {
            assertThat(c.onExit().get(30, TimeUnit.SECONDS)).isEqualTo(ExitStatus.exited(0));
            List<LogEntry> all = logs(c, LogQuery.ALL);
            List<String> out = all.stream().filter(e -> !e.isStderr()).map(LogEntry::text).toList();
            List<String> err = all.stream().filter(LogEntry::isStderr).map(LogEntry::text).toList();
            assertThat(err).containsExactly("err");
            assertThat(out).hasSize(4);
            assertThat(out.get(0)).isEqualTo("out");
            assertThat(out.get(1)).isEqualTo("caf\u00e9 \ufffd");
            assertThat(out.get(2)).hasSize(40000).matches("x+");
            assertThat(out.get(3)).isEqualTo("no newline at the end");
            // the raw file is docker's json-file format, written whole line by line
            String first = Files.readAllLines(storageRoot.resolve("containers").resolve(c.id()).resolve("container.log"),
                    StandardCharsets.UTF_8).get(0);
            assertThat(first).matches("\\{\"log\":\"(out|err)\\\\n\",\"stream\":\"std(out|err)\",\"time\":\"[0-9T:.-]+Z\"}");
            Instant t = all.get(0).time();
            assertThat(logs(c, LogQuery.builder().since(t.plusSeconds(3600)).build())).isEmpty();
        }
        // an attached container's close removes its logs with the rest
        try (Stream<Path> s = Files.list(storageRoot.resolve("containers"))) {
            assertThat(s.toList()).isEmpty();
        }
    }

    @Test
    void aDetachedContainerThatAskedForItIsRemovedOnceItEnded() throws Exception {
        ContainerRuntime r = runtime();
        Container c = r.start(id("once"), shell("echo bye").detached(true).autoRemove(true).build());
        assertThat(c.onExit().get(30, TimeUnit.SECONDS)).isEqualTo(ExitStatus.exited(0));
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (Files.exists(stateRoot.resolve(id("once"))) && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertThat(stateRoot.resolve(id("once"))).doesNotExist();
        assertThat(r.container(id("once"))).isEmpty();
    }

    @Test
    void aDetachedContainerEndingWhileNoRuntimeIsAttachedIsRecordedByTheNextOne() throws Exception {
        ContainerRuntime first = runtime();
        first.start(id("short"), shell("sleep 0.5; exit 7").detached(true).build());
        first.close();
        Thread.sleep(1500);
        ContainerRuntime second = runtime();
        ContainerInfo info = second.list().stream().filter(i -> i.id().equals(id("short"))).findFirst().orElseThrow();
        assertThat(info.status()).isEqualTo(ContainerStatus.EXITED);
        assertThat(info.exit()).contains(ExitStatus.exited(7));
        Container c = second.container(id("short")).orElseThrow();
        assertThat(c.waitFor()).isEqualTo(ExitStatus.exited(7));
        second.remove(id("short"), false);
    }

    @Test
    void removeRefusesARunningContainerUnlessForcedAndPauseIsRecorded() throws Exception {
        ContainerRuntime first = runtime();
        long pid = first.start(id("busy"), shell(COUNTER).detached(true).build()).pid();
        first.close();
        ContainerRuntime second = runtime();
        Container c = second.container(id("busy")).orElseThrow();
        c.pause();
        assertThat(second.container(id("busy")).orElseThrow().status()).isEqualTo(ContainerStatus.PAUSED);
        int before = logs(c, LogQuery.ALL).size();
        Thread.sleep(300);
        assertThat(logs(c, LogQuery.ALL)).as("no output while paused").hasSize(before);
        c.resume();
        assertThatThrownBy(() -> second.remove(id("busy"), false)).isInstanceOf(ContainerStateException.class)
                .hasMessageContaining(id("busy"));
        assertThat(alive(pid)).isTrue();
        second.remove(id("busy"), true);
        assertThat(alive(pid)).isFalse();
        assertThat(second.container(id("busy"))).isEmpty();
    }

    @Test
    void onLogDeliversEveryNewLineInOrderAndOnStatsStreamsUntilTheEnd() throws Exception {
        ContainerRuntime r = runtime();
        try (Container c = r.start(shell("sleep 0.5; i=0; while [ $i -lt 50 ]; do echo $i; i=$((i+1)); done;"
                + " echo done >&2; sleep 0.3").logging(LogConfig.DEFAULT).build())) {
            List<LogEntry> seen = java.util.Collections.synchronizedList(new ArrayList<>());
            List<dev.berth.cgroups.CgroupStats> stats = java.util.Collections.synchronizedList(new ArrayList<>());
            java.util.concurrent.CountDownLatch last = new java.util.concurrent.CountDownLatch(1);
            Subscription logs = c.onLog(e -> {
                seen.add(e);
                if (e.isStderr()) {
                    last.countDown();
                }
            });
            Subscription sampling = c.onStats(Duration.ofMillis(100), stats::add);
            Subscription slf4j = c.onLog(LogEntry.slf4j("berth.test.container"));
            assertThat(last.await(30, TimeUnit.SECONDS)).isTrue();
            assertThat(c.onExit().get(30, TimeUnit.SECONDS)).isEqualTo(ExitStatus.exited(0));
            assertNoGaps(numbers(List.copyOf(seen)));
            assertThat(numbers(List.copyOf(seen))).hasSize(50);
            assertThat(seen.get(seen.size() - 1).text()).isEqualTo("done");
            Thread.sleep(300);
            int n = stats.size();
            assertThat(n).as("snapshots over ~0.8 s at 100 ms").isGreaterThanOrEqualTo(3);
            assertThat(stats.get(0).pids()).isPositive();
            Thread.sleep(300);
            assertThat(stats).as("no snapshot after the end").hasSize(n);
            logs.close();
            logs.close(); // idempotent
            sampling.close();
            slf4j.close();
        }
        assertThatThrownBy(() -> runtime().start(shell("true").stdout(Stdio.discard()).build()).onLog(e -> { }))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("not captured");
    }

    @Test
    void aDetachedSpecRefusesWhatWouldEndWithTheJvm() {
        assertThatThrownBy(() -> shell("true").detached(true).stdout(Stdio.pipe()).build())
                .hasMessageStartingWith("stdout: a detached container outlives the JVM");
        assertThatThrownBy(() -> shell("true").detached(true).tty(true).build()).hasMessageStartingWith("tty:");
        assertThatThrownBy(() -> shell("true").logging(LogConfig.DEFAULT).stdout(Stdio.discard()).build())
                .hasMessageStartingWith("stdout: the container's output is captured");
        assertThatThrownBy(() -> shell("true").autoRemove(true).build()).hasMessageStartingWith("autoRemove:");
        ContainerSpec spec = shell("true").detached(true).build();
        assertThat(spec.logging()).contains(LogConfig.DEFAULT);
        assertThat(shell("true").detached(true).stdout(Stdio.discard()).stderr(Stdio.discard()).build().logging())
                .isEmpty();
        assertThat(Optional.of(spec.stdin().kind())).contains(Stdio.Kind.NULL);
    }

    @Test
    void aStateNamingAnotherProcessNeverLeadsToASignalToIt() throws Exception {
        ContainerRuntime first = runtime();
        Container c = first.start(id("reused"), shell("sleep 60").detached(true).build());
        c.close();
        first.close();
        // the container is killed behind Berth's back, and its pids in the state now name someone else
        Process other = new ProcessBuilder("sleep", "60").start();
        try {
            Path state = stateRoot.resolve(id("reused")).resolve("state.json");
            String json = Files.readString(state);
            long startTime = dev.berth.core.internal.state.ProcessId.of(other.pid()).startTime();
            String forged = json.replaceAll("\"init\":\\{\"pid\":\\d+,\"startTime\":\\d+}",
                    "\"init\":{\"pid\":" + other.pid() + ",\"startTime\":" + startTime + "}")
                    .replaceAll("\"monitor\":\\{\"pid\":\\d+,\"startTime\":\\d+}",
                            "\"monitor\":{\"pid\":" + other.pid() + ",\"startTime\":" + startTime + "}");
            long realInit = c.pid();
            ProcessHandle.of(realInit).ifPresent(ProcessHandle::destroyForcibly);
            Thread.sleep(500);
            Files.writeString(state, forged);
            ContainerRuntime second = runtime();
            Container adopted = second.container(id("reused")).orElseThrow();
            adopted.kill();
            adopted.stop(Duration.ofMillis(100));
            second.remove(id("reused"), true);
            assertThat(other.isAlive()).as("the unrelated process with the recorded pid and start time").isTrue();
        } finally {
            other.destroyForcibly();
        }
    }

    /** For failure messages: what the log files hold. */
    static String dump(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(Path::toString).collect(Collectors.joining(", "));
        }
    }
}
