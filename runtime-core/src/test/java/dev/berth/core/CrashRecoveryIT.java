package dev.berth.core;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.cloud.tools.jib.api.Containerizer;
import com.google.cloud.tools.jib.api.Jib;
import com.google.cloud.tools.jib.api.TarImage;
import com.google.cloud.tools.jib.api.buildplan.AbsoluteUnixPath;
import com.google.cloud.tools.jib.api.buildplan.FileEntriesLayer;
import com.google.cloud.tools.jib.api.buildplan.FilePermissions;
import dev.berth.cgroups.CgroupDriver;
import dev.berth.core.internal.state.ProcessId;
import dev.berth.core.internal.state.StateDocument;
import dev.berth.core.internal.state.StateJson;
import dev.berth.core.testing.CrashingEmbedderMain;
import dev.berth.core.testing.TestRootfs;
import dev.berth.image.ImportProgress;
import dev.berth.testing.RequiresRoot;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A JVM embedding Berth is killed with SIGKILL in the middle of its work (starting, running, closing
 * containers of an image and of a directory), again and again; each time a new runtime on the same
 * roots reconciles, and afterwards nothing of the dead JVM's containers is left: no process, cgroup,
 * mount, state file, lock, writable layer or image pin.
 */
@RequiresRoot
class CrashRecoveryIT {
    /** Kill rounds; the VM variant runs fewer (its JVMs start several times slower). */
    protected int rounds() {
        return Integer.getInteger("berth.test.crashRounds", 20);
    }

    @TempDir
    static Path tmp;
    static Path state;
    static Path storage;
    static String image;

    @BeforeAll
    static void image() throws Exception {
        state = tmp.resolve("state");
        storage = tmp.resolve("storage");
        Path tar = tmp.resolve("minimal.tar");
        Jib.fromScratch()
                .addFileEntriesLayer(FileEntriesLayer.builder()
                        .addEntry(TestRootfs.path().resolve("bin/probe"), AbsoluteUnixPath.get("/probe"),
                                FilePermissions.fromOctalString("755"))
                        .build())
                .setEntrypoint("/probe")
                .containerize(Containerizer.to(TarImage.at(tar).named("it/crash:1"))
                        .setBaseImageLayersCache(tmp.resolve("jib-cache"))
                        .setApplicationLayersCache(tmp.resolve("jib-app-cache")));
        try (ContainerRuntime r = ContainerRuntime.builder().stateRoot(state).storageRoot(storage).build()) {
            image = r.images().importImage(tar, Optional.empty(), ImportProgress.NONE).name();
        }
    }

    @Test
    void aRuntimeKilledMidWorkLeavesNothingAfterTheNextReconciles() throws Exception {
        Random random = new Random(10);
        String run = Long.toHexString(System.nanoTime() & 0xffffff);
        List<Long> reconcileMillis = new ArrayList<>();
        int orphans = 0;
        for (int round = 0; round < rounds(); round++) {
            String prefix = "crash" + run + "r" + round; // unique: cgroup names are shared by every test on the host
            int count = 4;
            Process jvm = child(prefix, count);
            int killAfter = random.nextInt(count + 2); // lines: "started" x count, then "ready"
            try (BufferedReader out = new BufferedReader(new InputStreamReader(jvm.getInputStream(), StandardCharsets.UTF_8))) {
                for (int line = 0; line < killAfter; line++) {
                    String l = out.readLine();
                    if (l == null) {
                        jvm.waitFor(10, TimeUnit.SECONDS);
                        throw new AssertionError("round " + round + ": the child ended before its line " + line + ": "
                                + Files.readString(tmp.resolve(prefix + ".err")));
                    }
                }
                Thread.sleep(random.nextInt(150)); // somewhere in a start, or in the churn after "ready"
            } finally {
                jvm.destroyForcibly(); // SIGKILL
            }
            assertThat(jvm.waitFor(30, TimeUnit.SECONDS)).isTrue();

            List<ProcessId> left = processesNamedIn(state);
            // a lock file alone is an id its owner was releasing when it died: reconcile removes the file
            // but does not report an id that had nothing else (assertNothingLeft checks the file is gone)
            Set<String> ids = idsWithDirectory(state);
            orphans += ids.size();
            long t0 = System.nanoTime();
            Reconciliation r;
            try (ContainerRuntime runtime = ContainerRuntime.builder().stateRoot(state).storageRoot(storage)
                    .reconcile(false).build()) {
                String holders = lockHolders(state);
                assertThat(runtime.list()).as("round %d, lock holders: %s", round, holders)
                        .allSatisfy(i -> assertThat(i.owner()).isEqualTo(ContainerInfo.Owner.NONE));
                r = runtime.reconcile();
                reconcileMillis.add((System.nanoTime() - t0) / 1_000_000);
                assertThat(runtime.list()).isEmpty();
            }
            assertThat(r.failed()).as("round %d", round).isEmpty();
            assertThat(r.removed()).as("round %d", round).containsExactlyInAnyOrderElementsOf(ids);
            assertNothingLeft(state, storage, prefix, left);
        }
        System.out.printf("crash recovery: %d rounds, %d orphaned ids reconciled; reconcile took %s ms%n", rounds(),
                orphans, reconcileMillis);
    }

    private Process child(String prefix, int count) throws IOException {
        return child(state, storage, image, tmp.resolve(prefix + ".err"), prefix, count);
    }

    /** A {@link CrashingEmbedderMain} on these roots. */
    static Process child(Path state, Path storage, String image, Path err, String prefix, int count) throws IOException {
        String java = ProcessHandle.current().info().command().orElse("java");
        return new ProcessBuilder(java, "-XX:TieredStopAtLevel=1", "-Xshare:auto", "-cp",
                classPath(), CrashingEmbedderMain.class.getName(), state.toString(),
                storage.toString(), TestRootfs.path().toString(), image, prefix, Integer.toString(count))
                .redirectError(err.toFile()).start();
    }

    /** Who holds which lock file (for a failure's message): /proc/locks entries of their inodes. */
    static String lockHolders(Path state) throws IOException {
        StringBuilder out = new StringBuilder();
        Path locks = state;
        if (!Files.isDirectory(locks)) {
            return "";
        }
        List<String> table = Files.readAllLines(Path.of("/proc/locks"));
        try (Stream<Path> s = Files.list(locks)) {
            for (Path f : s.filter(p -> p.getFileName().toString().endsWith(".lock")).toList()) {
                Object ino = Files.getAttribute(f, "unix:ino");
                for (String line : table) {
                    if (line.contains(":" + ino + " ")) {
                        String pid = line.trim().split("\\s+")[4];
                        String exe;
                        try {
                            exe = Files.readSymbolicLink(Path.of("/proc/" + pid + "/exe")) + " "
                                    + Files.readString(Path.of("/proc/" + pid + "/cmdline")).replace('\0', ' ');
                        } catch (IOException e) {
                            exe = "?";
                        }
                        out.append(f.getFileName()).append(" held by ").append(pid).append(' ').append(exe).append("; ");
                    }
                }
            }
        }
        try (Stream<Path> procs = Files.list(Path.of("/proc"))) {
            for (Path proc : procs.filter(p -> p.getFileName().toString().matches("\\d+")).toList()) {
                try (Stream<Path> fds = Files.list(proc.resolve("fd"))) {
                    for (Path fd : fds.toList()) {
                        String target = Files.readSymbolicLink(fd).toString();
                        if (target.startsWith(locks.toString()) && target.endsWith(".lock")) {
                            out.append(target).append(" open in ").append(proc.getFileName()).append(' ')
                                    .append(Files.readString(proc.resolve("cmdline")).replace('\0', ' '))
                                    .append(" status ").append(Files.readAllLines(proc.resolve("status")).subList(0, 8))
                                    .append("; ");
                        }
                    }
                } catch (IOException e) {
                    // gone meanwhile
                }
            }
        }
        return out.toString();
    }

    /**
     * This JVM's class path, and what a launcher added in a class loader of its own (the JUnit
     * console launcher of the VM suite passes the tests' class path so, not as java.class.path).
     */
    static String classPath() {
        List<String> entries = new ArrayList<>(List.of(System.getProperty("java.class.path").split(":")));
        for (ClassLoader l = CrashRecoveryIT.class.getClassLoader(); l != null; l = l.getParent()) {
            if (l instanceof java.net.URLClassLoader u) {
                for (java.net.URL url : u.getURLs()) {
                    try {
                        entries.add(Path.of(url.toURI()).toString());
                    } catch (java.net.URISyntaxException | IllegalArgumentException e) {
                        // not a file: nothing a child JVM could use
                    }
                }
            }
        }
        return String.join(":", new java.util.LinkedHashSet<>(entries));
    }

    /** The ids a dead runtime left: state directories and lone lock files. */
    static Set<String> ids(Path state) throws IOException {
        Set<String> ids = new TreeSet<>();
        if (Files.isDirectory(state)) {
            try (Stream<Path> s = Files.list(state)) {
                s.map(p -> p.getFileName().toString())
                        .map(n -> n.startsWith(".") && n.endsWith(".lock") ? n.substring(1, n.length() - 5) : n)
                        .forEach(ids::add);
            }
        }
        return ids;
    }

    static Set<String> idsWithDirectory(Path state) throws IOException {
        Set<String> ids = new TreeSet<>();
        if (Files.isDirectory(state)) {
            try (Stream<Path> s = Files.list(state)) {
                s.filter(p -> !p.getFileName().toString().startsWith(".") && Files.isDirectory(p))
                        .map(p -> p.getFileName().toString()).forEach(ids::add);
            }
        }
        return ids;
    }

    /** The monitors and inits the state files name (those that got as far as a state). */
    static List<ProcessId> processesNamedIn(Path state) throws IOException {
        List<ProcessId> out = new ArrayList<>();
        try (Stream<Path> s = Files.list(state)) {
            for (Path dir : s.filter(p -> !p.getFileName().toString().startsWith(".") && Files.isDirectory(p)).toList()) {
                Path f = dir.resolve("state.json");
                if (Files.exists(f)) {
                    StateDocument d = StateJson.read(Files.readAllBytes(f));
                    for (StateDocument.ProcessDoc p : new StateDocument.ProcessDoc[] {d.init(), d.monitor()}) {
                        if (p != null) {
                            out.add(p.id());
                        }
                    }
                }
            }
        }
        return out;
    }

    static void assertNothingLeft(Path state, Path storage, String prefix, List<ProcessId> processes)
            throws IOException {
        assertThat(processes).as("processes").noneMatch(ProcessId::isAlive);
        try (CgroupDriver d = CgroupDriver.detect()) {
            assertThat(d.list()).as("cgroups").noneMatch(n -> n.startsWith(prefix + "-"));
        }
        String mounts = Files.readString(Path.of("/proc/self/mountinfo"));
        assertThat(mounts).as("mounts").doesNotContain(state.toString(), storage.resolve("containers").toString());
        assertThat(ids(state)).as("state directories and locks").isEmpty();
        assertThat(list(storage.resolve("containers"))).as("writable layers").isEmpty();
        assertThat(list(storage.resolve("pins"))).as("image pins").isEmpty();
    }

    private static List<String> list(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).toList();
        }
    }
}
