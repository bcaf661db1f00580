package dev.berth.core.internal.user;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.core.IdMapping;
import dev.berth.core.UserNamespace;
import dev.berth.core.internal.linux.LinuxSyscalls;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class IdRangeAllocatorTest {

    @TempDir
    Path tmp;
    Path subuid;
    Path subgid;
    final Set<String> existing = Collections.synchronizedSet(new HashSet<>());

    @BeforeEach
    void files() throws IOException {
        subuid = tmp.resolve("subuid");
        subgid = tmp.resolve("subgid");
        Files.writeString(subuid, "alice:100000:65536\ncontainers:200000:10000\n");
        Files.writeString(subgid, "alice:100000:65536\ncontainers:500000:10000\n");
    }

    private IdRangeAllocator allocator() {
        return new IdRangeAllocator(tmp.resolve("state/.userns"), subuid, subgid, new LinuxSyscalls(), existing::contains);
    }

    private UserNamespace allocate(IdRangeAllocator a, String id, long size) {
        existing.add(id);
        return a.allocate(id, UserNamespace.auto(size), List.of());
    }

    @Test
    void rangesComeFromTheContainersLinesAndNeverOverlap() {
        IdRangeAllocator a = allocator();
        UserNamespace one = allocate(a, "one", 1024);
        UserNamespace two = allocate(a, "two", 2000);
        assertThat(one.mode()).isEqualTo(UserNamespace.Mode.MAPPED);
        assertThat(one.uidMap()).containsExactly(IdMapping.of(0, 200000, 1024));
        assertThat(one.gidMap()).containsExactly(IdMapping.of(0, 500000, 1024));
        assertThat(two.uidMap()).containsExactly(IdMapping.of(0, 201024, 2000));
        assertThat(two.gidMap()).containsExactly(IdMapping.of(0, 501024, 2000));
        assertThat(a.allocations()).extracting(IdRangeAllocator.Allocation::id).containsExactly("one", "two");
    }

    @Test
    void theSameContainerKeepsItsRangeAndAReleasedRangeIsReused() {
        IdRangeAllocator a = allocator();
        UserNamespace one = allocate(a, "one", 1024);
        allocate(a, "two", 1024);
        assertThat(allocate(a, "one", 1024)).isEqualTo(one);
        // a new JVM's allocator reads the same records
        assertThat(allocator().allocate("one", UserNamespace.auto(1024), List.of())).isEqualTo(one);
        a.release("one");
        assertThat(a.allocations()).extracting(IdRangeAllocator.Allocation::id).containsExactly("two");
        assertThat(allocate(a, "three", 1000).uidMap()).containsExactly(IdMapping.of(0, 200000, 1000));
        // another size for the same container: a new range (first fit, split as podman does), its old one freed
        UserNamespace bigger = allocate(a, "three", 3000);
        assertThat(bigger.uidMap()).containsExactly(IdMapping.of(0, 200000, 1024), IdMapping.of(1024, 202048, 1976));
        assertThat(a.allocations()).hasSize(2);
    }

    @Test
    void aRangeSpansSeveralSubordinateRangesAndSkipsHeldOnes() throws IOException {
        Files.writeString(subuid, "containers:100000:1000\n# comment\ncontainers:300000:5000\n");
        Files.writeString(subgid, "containers:100000:6000\n");
        IdRangeAllocator a = allocator();
        allocate(a, "small", 500);
        UserNamespace split = allocate(a, "split", 1024);
        assertThat(split.uidMap()).containsExactly(IdMapping.of(0, 100500, 500), IdMapping.of(500, 300000, 524));
        assertThat(split.gidMap()).containsExactly(IdMapping.of(0, 100500, 1024));
        a.release("small");
        UserNamespace refill = allocate(a, "refill", 600);
        assertThat(refill.uidMap()).containsExactly(IdMapping.of(0, 100000, 500), IdMapping.of(500, 300524, 100));
    }

    @Test
    void overlappingOrDuplicatedLinesNeverHandOutAnIdTwice() throws IOException {
        Files.writeString(subuid, "containers:100000:2000\ncontainers:101000:2000\ncontainers:100000:2000\n");
        Files.writeString(subgid, "containers:100000:3000\n");
        IdRangeAllocator a = allocator();
        UserNamespace x = allocate(a, "x", 2500);
        assertThat(x.uidMap()).containsExactly(IdMapping.of(0, 100000, 2000), IdMapping.of(2000, 102000, 500));
        assertThatThrownBy(() -> allocate(a, "y", 600)).hasMessageStartingWith("userns auto: no free range of 600 ids in "
                + subuid);
    }

    @Test
    void exhaustionNamesTheFileTheOwnerTheHeldRangesAndTheFix() {
        IdRangeAllocator a = allocator();
        allocate(a, "big", 9000);
        assertThatThrownBy(() -> allocate(a, "late", 1024))
                .isInstanceOf(IllegalStateException.class)
                .hasMessage("userns auto: no free range of 1024 ids in " + subuid + " for \"containers\" (has 200000-209999;"
                        + " held: big 200000-208999); add one with usermod --add-subuids START-END containers");
        assertThat(a.allocations()).extracting(IdRangeAllocator.Allocation::id).containsExactly("big");
    }

    @Test
    void noSubordinateIdsForContainersOrNoFileSaySo() throws IOException {
        Files.writeString(subgid, "alice:100000:65536\n");
        assertThatThrownBy(() -> allocate(allocator(), "a", 10))
                .hasMessage("userns auto: no free range of 10 ids in " + subgid + " for \"containers\" (it has none);"
                        + " add one with usermod --add-subgids START-END containers");
        Files.delete(subuid);
        assertThatThrownBy(() -> allocate(allocator(), "a", 10)).hasMessageContaining("in " + subuid + " for");
    }

    @Test
    void aMalformedSubuidLineIsAnErrorNamingFileAndLine() throws IOException {
        Files.writeString(subuid, "containers:200000:10000\ncontainers:x:10\n");
        assertThatThrownBy(() -> allocate(allocator(), "a", 10))
                .hasMessage("userns auto: " + subuid + " line 2: \"containers:x:10\": START and COUNT must be numbers");
    }

    @Test
    void releasingOrReconcilingWithoutRangesLeavesNoTrace() {
        IdRangeAllocator a = allocator();
        a.release("never");
        assertThat(a.reconcile()).isEmpty();
        assertThat(a.allocations()).isEmpty();
        assertThat(tmp.resolve("state")).doesNotExist();
    }

    @Test
    void rangesOfContainersThatAreGoneAreDropped() {
        IdRangeAllocator a = allocator();
        allocate(a, "gone", 9000);
        existing.remove("gone");
        // the next allocation drops it first, so there is room again
        assertThat(allocate(a, "next", 9000).uidMap()).containsExactly(IdMapping.of(0, 200000, 9000));
        assertThat(a.allocations()).extracting(IdRangeAllocator.Allocation::id).containsExactly("next");
        existing.remove("next");
        assertThat(a.reconcile()).containsExactly("next");
        assertThat(a.allocations()).isEmpty();
    }

    @Test
    void recordsArePrivateAtomicJson() throws IOException {
        IdRangeAllocator a = allocator();
        allocate(a, "one", 1024);
        Path record = tmp.resolve("state/.userns/one.json");
        assertThat(Files.readString(record)).isEqualTo("{\"id\":\"one\",\"uidMap\":[\"0:200000:1024\"],"
                + "\"gidMap\":[\"0:500000:1024\"]}");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(record))).isEqualTo("rw-------");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(record.getParent()))).isEqualTo("rwx------");
        try (var s = Files.list(record.getParent())) {
            assertThat(s.map(p -> p.getFileName().toString())).containsExactlyInAnyOrder("one.json", "lock");
        }
    }

    @Test
    void hostileRecordsOfExistingContainersAreRefusedByName() throws IOException {
        IdRangeAllocator a = allocator();
        allocate(a, "one", 10);
        Path dir = tmp.resolve("state/.userns");
        existing.add("evil");
        Files.writeString(dir.resolve("evil.json"), "{\"id\":\"evil\",\"uidMap\":[\"0:200000:10\",\"5:200020:10\"],"
                + "\"gidMap\":[\"0:500000:10\"]}");
        assertThatThrownBy(() -> allocate(a, "two", 10)).isInstanceOf(IllegalStateException.class)
                .hasMessageStartingWith("userns auto: record " + dir.resolve("evil.json")
                        + " of an existing container cannot be read: uid map: lines");
        Files.writeString(dir.resolve("evil.json"), "{\"id\":\"other\",\"uidMap\":[],\"gidMap\":[]}");
        assertThatThrownBy(() -> allocate(a, "two", 10)).hasMessageContaining("it names container \"other\"");
        Files.writeString(dir.resolve("evil.json"), "not json");
        assertThatThrownBy(() -> allocate(a, "two", 10)).hasMessageContaining("evil.json of an existing container");
        Files.delete(dir.resolve("evil.json"));
        Files.createSymbolicLink(dir.resolve("evil.json"), dir.resolve("one.json"));
        assertThatThrownBy(() -> allocate(a, "two", 10)).hasMessageContaining("not a regular file");
        // once the container is gone, its broken record goes too
        existing.remove("evil");
        assertThat(allocate(a, "two", 10).uidMap()).containsExactly(IdMapping.of(0, 200010, 10));
    }

    @Test
    void badArgumentsAreRefused() {
        IdRangeAllocator a = allocator();
        assertThatThrownBy(() -> a.allocate("../x", UserNamespace.auto(), List.of()))
                .hasMessageStartingWith("userns auto: container id \"../x\" must match");
        assertThatThrownBy(() -> a.allocate("x", UserNamespace.host(), List.of()))
                .hasMessage("userns auto: expected an auto user namespace, got host");
        assertThatThrownBy(() -> a.allocate("x", UserNamespace.of(1000, 10), List.of()))
                .hasMessageStartingWith("userns auto: expected an auto user namespace, got uidmap=");
        assertThatThrownBy(() -> a.release(".lock")).hasMessageStartingWith("userns auto: container id");
    }

    @Test
    void plainAutoIsSizedByTheImageAndAtLeast1024() throws IOException {
        IdRangeAllocator a = allocator();
        Path top = Files.createDirectories(tmp.resolve("layers/top/etc"));
        Path base = Files.createDirectories(tmp.resolve("layers/base/etc"));
        Files.writeString(base.resolve("passwd"), "root:x:0:0::/root:/bin/sh\nbig:x:9000:9000::/:/bin/sh\n");
        Files.writeString(top.resolve("passwd"), "root:x:0:0::/root:/bin/sh\nweb:x:1500:1500::/:/bin/sh\n+nis\n");
        Files.writeString(top.resolve("group"), "root:x:0:\nweb:x:2047:\n# junk\nx:y\n");
        List<Path> layers = List.of(top.getParent(), base.getParent());
        // the topmost passwd wins (1500), the group's 2047 is higher: 2048 ids
        assertThat(a.sizeFor(UserNamespace.auto(), layers)).isEqualTo(2048);
        assertThat(a.sizeFor(UserNamespace.auto(), List.of())).isEqualTo(1024);
        assertThat(a.sizeFor(UserNamespace.auto(77), layers)).isEqualTo(77);
        existing.add("img");
        assertThat(a.allocate("img", UserNamespace.auto(), layers).uidMap()).containsExactly(IdMapping.of(0, 200000, 2048));
        assertThatThrownBy(() -> a.sizeFor(UserNamespace.auto(), List.of(tmp.resolve("nope"))))
                .hasMessage("userns auto: layer " + tmp.resolve("nope") + " does not exist");
    }

    @Test
    void layerWalksAreCachedAcrossJvmsAndPrunedWithTheirLayers() throws IOException {
        Path layer = Files.createDirectories(tmp.resolve("layers/one/usr"));
        Path l = layer.getParent();
        Path cache = tmp.resolve("cache");
        ImageIdSpan first = new ImageIdSpan(cache);
        assertThat(first.highest(List.of(l))).isNotNull();
        Path file = first.cacheFile(ImageIdSpan.keyOf(l));
        assertThat(file).isRegularFile();
        assertThat(Files.readString(file)).startsWith("{\"layer\":\"" + l + "\",\"key\":\"" + l + "#");
        // another JVM (a new instance) takes the cached figures instead of walking
        Files.writeString(file, "{\"layer\":\"" + l + "\",\"key\":\"" + ImageIdSpan.keyOf(l)
                + "\",\"uid\":99999,\"gid\":5}");
        assertThat(new ImageIdSpan(cache).highest(List.of(l))).containsExactly(99999, 5);
        // a cache file that names another key, or is not JSON, is walked again and replaced
        Files.writeString(file, "{\"layer\":\"" + l + "\",\"key\":\"elsewhere\",\"uid\":99999,\"gid\":5}");
        long[] walked = new ImageIdSpan(cache).highest(List.of(l));
        assertThat(walked[0]).isLessThan(99999);
        Files.writeString(file, "junk");
        assertThat(new ImageIdSpan(cache).highest(List.of(l))).containsExactly(walked);
        assertThat(Files.readString(file)).contains(ImageIdSpan.keyOf(l));
        new ImageIdSpan(cache).prune();
        assertThat(file).exists();
        Files.delete(layer);
        Files.delete(l);
        new ImageIdSpan(cache).prune();
        assertThat(file).doesNotExist();
        try (var s = Files.list(cache)) {
            assertThat(s).isEmpty(); // no temp file left either
        }
    }

    @Test
    void fileOwnersOfTheLayersCountWhenRootCanMakeThem() throws IOException {
        org.junit.jupiter.api.Assumptions.assumeTrue(new com.sun.security.auth.module.UnixSystem().getUid() == 0,
                "needs root to chown a file to uid 70000");
        Path layer = Files.createDirectories(tmp.resolve("layer/usr"));
        Path file = Files.writeString(layer.resolve("f"), "x");
        Files.setAttribute(file, "unix:uid", 70000);
        Files.setAttribute(layer, "unix:gid", 3000);
        assertThat(allocator().sizeFor(UserNamespace.auto(), List.of(layer.getParent()))).isEqualTo(70001);
    }

    @Test
    void highestIdsOfPasswdText() {
        assertThat(ImageIdSpan.highestIdIn("a:x:10:1\nb:x:65534:65534\nc:x:4294967295:0\n", 2)).isEqualTo(65534);
        assertThat(ImageIdSpan.highestIdIn("", 2)).isZero();
        assertThat(ImageIdSpan.highestIdIn("a:x:-5:1\nb:x:zz:1\n", 2)).isZero();
    }

    @Test
    void threadsAllocatingAtOnceGetDisjointRanges() throws Exception {
        IdRangeAllocator a = allocator();
        ExecutorService pool = Executors.newFixedThreadPool(8);
        CountDownLatch go = new CountDownLatch(1);
        List<Future<UserNamespace>> results = new ArrayList<>();
        for (int i = 0; i < 16; i++) {
            String id = "t" + i;
            existing.add(id);
            IdRangeAllocator own = i % 2 == 0 ? a : allocator(); // one allocator shared, and one each
            results.add(pool.submit(() -> {
                go.await();
                return own.allocate(id, UserNamespace.auto(600), List.of());
            }));
        }
        go.countDown();
        List<IdMapping> all = new ArrayList<>();
        for (Future<UserNamespace> f : results) {
            all.addAll(f.get(30, TimeUnit.SECONDS).uidMap());
        }
        pool.shutdown();
        assertDisjoint(all);
        assertThat(a.allocations()).hasSize(16);
    }

    @Test
    void twoJvmsAllocatingAtOnceGetDisjointRanges() throws Exception {
        Files.writeString(subuid, "containers:100000:65536\n");
        Files.writeString(subgid, "containers:100000:65536\n");
        Path state = Files.createDirectories(tmp.resolve("state"));
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<Process> children = new ArrayList<>();
        for (String prefix : new String[] {"a", "b"}) {
            children.add(new ProcessBuilder(java, "-XX:TieredStopAtLevel=1", "-cp", classPath(),
                    AllocatorMain.class.getName(), state.toString(), subuid.toString(), subgid.toString(), prefix, "30",
                    "1000").redirectErrorStream(true).start());
        }
        Thread.sleep(300); // both JVMs up and spinning on the go file
        Files.createFile(state.resolve("go"));
        List<String> lines = new ArrayList<>();
        for (Process p : children) {
            assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(p.exitValue()).as(out).isZero();
            lines.addAll(out.lines().toList());
        }
        assertThat(lines).hasSize(60);
        IdRangeAllocator a = new IdRangeAllocator(state.resolve(IdRangeAllocator.DIR), subuid, subgid, new LinuxSyscalls(),
                id -> true);
        List<IdRangeAllocator.Allocation> held = a.allocations();
        assertThat(held).hasSize(60);
        List<IdMapping> uids = new ArrayList<>();
        List<IdMapping> gids = new ArrayList<>();
        for (IdRangeAllocator.Allocation h : held) {
            uids.addAll(h.uidMap());
            gids.addAll(h.gidMap());
            assertThat(lines).contains(h.id() + " " + h.uidMap() + " " + h.gidMap());
        }
        assertDisjoint(uids);
        assertDisjoint(gids);
        // 60 of 65 ranges of 1000 are held: the 66th container finds no room
        for (int i = 0; i < 5; i++) {
            a.allocate("more-" + i, UserNamespace.auto(1000), List.of());
        }
        assertThatThrownBy(() -> a.allocate("full", UserNamespace.auto(1000), List.of()))
                .hasMessageContaining("and 59 more");
    }

    private static void assertDisjoint(List<IdMapping> maps) {
        List<IdMapping> sorted = new ArrayList<>(maps);
        sorted.sort(java.util.Comparator.comparingLong(IdMapping::hostId));
        for (int i = 1; i < sorted.size(); i++) {
            assertThat(sorted.get(i).hostId()).as("%s after %s", sorted.get(i), sorted.get(i - 1))
                    .isGreaterThan(sorted.get(i - 1).hostEnd());
        }
    }

    static String classPath() {
        List<String> entries = new ArrayList<>(List.of(System.getProperty("java.class.path").split(":")));
        return String.join(":", entries);
    }
}
