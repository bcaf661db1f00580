package dev.berth.core;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.core.internal.state.ProcessId;
import dev.berth.core.testing.BusyboxRootfs;
import dev.berth.core.testing.DetachingEmbedderMain;
import dev.berth.core.testing.TestRootfs;
import dev.berth.testing.RequiresRoot;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A JVM with detached and attached containers is killed with SIGKILL mid-work, 20 times; each time a
 * new runtime on the same roots reconciles: the detached containers it had started are found running,
 * their logs complete (the counter each prints has no gap, from 0), and are then stopped and removed;
 * the attached ones are gone; afterwards nothing is left (process, cgroup, mount, state, layer).
 */
@RequiresRoot
class DetachedCrashRecoveryIT {
    protected int rounds() {
        return Integer.getInteger("berth.test.crashRounds", 20);
    }

    @TempDir
    Path tmp;

    @Test
    void detachedContainersSurviveTheirJvmsSigkillAndAttachedOnesDoNot() throws Exception {
        Path state = tmp.resolve("state");
        Path storage = tmp.resolve("storage");
        Path busybox = BusyboxRootfs.at(tmp.resolve("busybox"));
        Random random = new Random(11);
        String run = Long.toHexString(System.nanoTime() & 0xffffff);
        int detachedSeen = 0;
        try {
            detachedSeen = rounds(state, storage, busybox, random, run);
        } finally {
            // a failed round leaves detached containers running: they never outlive the test
            try (ContainerRuntime r = ContainerRuntime.builder().stateRoot(state).storageRoot(storage).build()) {
                for (ContainerInfo i : r.list()) {
                    r.remove(i.id(), true);
                }
            }
        }
        assertThat(detachedSeen).as("detached containers followed across their JVMs' deaths").isPositive();
        System.out.printf("detached crash recovery: %d rounds, %d detached containers re-attached%n", rounds(),
                detachedSeen);
    }

    private int rounds(Path state, Path storage, Path busybox, Random random, String run) throws Exception {
        int detachedSeen = 0;
        for (int round = 0; round < rounds(); round++) {
            String prefix = "dcr" + run + "r" + round;
            String java = ProcessHandle.current().info().command().orElse("java");
            Process jvm = new ProcessBuilder(java, "-XX:TieredStopAtLevel=1", "-Xshare:auto", "-cp",
                    CrashRecoveryIT.classPath(), DetachingEmbedderMain.class.getName(), state.toString(),
                    storage.toString(), TestRootfs.path().toString(), busybox.toString(), prefix)
                    .redirectError(tmp.resolve(prefix + ".err").toFile()).start();
            Map<String, Long> started = new LinkedHashMap<>();
            int killAfter = 1 + random.nextInt(5); // lines: 4 "started", then "ready"
            try (BufferedReader out = new BufferedReader(new InputStreamReader(jvm.getInputStream(), StandardCharsets.UTF_8))) {
                for (int line = 0; line < killAfter; line++) {
                    String l = out.readLine();
                    if (l == null) {
                        jvm.waitFor(10, TimeUnit.SECONDS);
                        throw new AssertionError("round " + round + ": the child ended early: "
                                + Files.readString(tmp.resolve(prefix + ".err")));
                    }
                    String[] f = l.split(" ");
                    if (f[0].equals("started")) {
                        started.put(f[1], Long.parseLong(f[2]));
                    }
                }
                Thread.sleep(random.nextInt(200)); // somewhere in a start, or in the churn after "ready"
            } finally {
                jvm.destroyForcibly();
            }
            assertThat(jvm.waitFor(30, TimeUnit.SECONDS)).isTrue();
            // a process the JVM was spawning when it died holds its fds (lock files too) until its exec
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
            while (!CrashRecoveryIT.lockHolders(state).isEmpty() && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            List<ProcessId> named = CrashRecoveryIT.processesNamedIn(state);

            try (ContainerRuntime runtime = ContainerRuntime.builder().stateRoot(state).storageRoot(storage).build()) {
                for (Map.Entry<String, Long> e : started.entrySet()) {
                    String id = e.getKey();
                    if (id.contains("-a")) {
                        if (runtime.container(id).isPresent()) {
                            throw new AssertionError("round " + round + ": attached " + id + " after its JVM died: "
                                    + runtime.list() + "; reconcile now: " + runtime.reconcile() + "; lock holders: "
                                    + CrashRecoveryIT.lockHolders(state));
                        }
                        assertThat(ProcessHandle.of(e.getValue()).map(ProcessHandle::isAlive).orElse(false)).isFalse();
                        continue;
                    }
                    Container c = runtime.container(id).orElseThrow(() -> new AssertionError("detached " + id));
                    assertThat(c.isRunning()).as("round %d: detached %s after its JVM died", round, id).isTrue();
                    assertThat(c.pid()).isEqualTo(e.getValue());
                    Thread.sleep(50);
                    c.stop(Duration.ofSeconds(5));
                    List<Integer> numbers;
                    try (Stream<LogEntry> s = c.logs()) {
                        numbers = s.map(l -> Integer.parseInt(l.text())).toList();
                    }
                    assertThat(numbers).as("round %d: %s's counter", round, id).isNotEmpty();
                    for (int i = 0; i < numbers.size(); i++) {
                        assertThat(numbers.get(i)).as("round %d: %s line %d", round, id, i).isEqualTo(i);
                    }
                    runtime.remove(id, false);
                    detachedSeen++;
                }
                // leftovers the test was not told of: detached ones started (or being started) when the kill
                // came; never an attached one
                for (ContainerInfo i : runtime.list()) {
                    assertThat(i.owner()).as("round %d: %s left after reconcile", round, i.id())
                            .isEqualTo(ContainerInfo.Owner.DETACHED);
                    runtime.remove(i.id(), true);
                }
                assertThat(runtime.list()).isEmpty();
            }
            CrashRecoveryIT.assertNothingLeft(state, storage, prefix, named);
        }
        return detachedSeen;
    }

    static List<String> files(Path dir) throws IOException {
        List<String> out = new ArrayList<>();
        if (Files.isDirectory(dir)) {
            try (Stream<Path> s = Files.list(dir)) {
                s.forEach(p -> out.add(p.getFileName().toString()));
            }
        }
        return out;
    }
}
