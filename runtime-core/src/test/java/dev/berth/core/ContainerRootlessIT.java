package dev.berth.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.cgroups.Resources;
import dev.berth.core.testing.ContainerTestSupport;
import dev.berth.core.testing.RootlessIds;
import dev.berth.core.testing.TestRootfs;
import dev.berth.image.ImportProgress;
import dev.berth.image.LayerOwners;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Berth run by an ordinary user (.ci/rootless-suite.sh runs this as an unprivileged user with subordinate ids;
 * never as root): every container has a user namespace whose root is the user, its files on a bind mount are
 * the user's, an image's entries of other owners get their mapped owners, what the user cannot read stays
 * unreadable inside, what needs root says so, and the lifecycle works without cgroups, leaving nothing behind.
 */
class ContainerRootlessIT extends ContainerTestSupport {
    private static final String IMAGE = "it/rootless:1";
    private static RootlessIds ids;
    private final String run = "rl" + Long.toHexString(System.nanoTime() & 0xffffff);

    @BeforeAll
    static void image() throws Exception {
        ids = RootlessIds.require();
        Path layout = layout(tmp.resolve("layout"));
        runtime.images().importImage(layout, Optional.of(IMAGE), ImportProgress.NONE);
        Path layer = dataLayer();
        if (!Files.exists(LayerOwners.fileFor(layer))) {
            // the rootless unpack lists them (runtime-image); a store that predates it gets the list it would write
            LayerOwners.write(layer, List.of(new LayerOwners.Entry("data/www", 33, 33, 0640),
                    new LayerOwners.Entry("data/suid", 33, 33, 04750),
                    new LayerOwners.Entry("data/link", 33, 33, 0777)));
        }
    }

    /** What a test adds to the layer after the test rootfs and before the layer is closed. */
    interface LayerEntries {
        void add(TarArchiveOutputStream tar) throws IOException;
    }

    /** An OCI layout of the test rootfs plus data/www, data/suid and the symlink data/link owned by 33:33. */
    private static Path layout(Path dir) throws IOException {
        return layout(dir, tar -> {
            TarArchiveEntry d = new TarArchiveEntry("data/");
            d.setMode(0755);
            tar.putArchiveEntry(d);
            tar.closeArchiveEntry();
            file(tar, "data/www", 0640, "www's", 33, 33);
            file(tar, "data/suid", 04750, "setuid", 33, 33);
            TarArchiveEntry l = new TarArchiveEntry("data/link", TarArchiveEntry.LF_SYMLINK);
            l.setLinkName("www");
            l.setIds(33, 33);
            tar.putArchiveEntry(l);
            tar.closeArchiveEntry();
        });
    }

    /** An OCI layout (tag 1) of one layer: the test rootfs (every entry 0:0) and what {@code extra} adds, /bin/probe as entrypoint. */
    static Path layout(Path dir, LayerEntries extra) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        Path rootfs = TestRootfs.path();
        try (TarArchiveOutputStream tar = new TarArchiveOutputStream(out); Stream<Path> all = Files.walk(rootfs)) {
            tar.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
            for (Path p : all.sorted().toList()) {
                if (p.equals(rootfs)) {
                    continue;
                }
                String name = rootfs.relativize(p).toString();
                if (Files.isSymbolicLink(p)) {
                    TarArchiveEntry e = new TarArchiveEntry(name, TarArchiveEntry.LF_SYMLINK);
                    e.setLinkName(Files.readSymbolicLink(p).toString());
                    tar.putArchiveEntry(e);
                } else if (Files.isDirectory(p)) {
                    TarArchiveEntry e = new TarArchiveEntry(name + "/");
                    e.setMode(name.equals("tmp") ? 01777 : 0755);
                    tar.putArchiveEntry(e);
                } else {
                    byte[] b = Files.readAllBytes(p);
                    TarArchiveEntry e = new TarArchiveEntry(name);
                    e.setMode((Integer) Files.getAttribute(p, "unix:mode") & 07777);
                    e.setSize(b.length);
                    tar.putArchiveEntry(e);
                    tar.write(b);
                }
                tar.closeArchiveEntry();
            }
            extra.add(tar);
        }
        byte[] layer = out.toByteArray();
        Files.createDirectories(dir.resolve("blobs/sha256"));
        Files.writeString(dir.resolve("oci-layout"), "{\"imageLayoutVersion\":\"1.0.0\"}");
        String arch = System.getProperty("os.arch").equals("aarch64") ? "arm64" : "amd64";
        String layerDigest = blob(dir, layer);
        byte[] config = ("{\"architecture\":\"" + arch + "\",\"os\":\"linux\",\"config\":{\"Entrypoint\":[\"/bin/probe\"]},\"rootfs\":{\"type\":"
                + "\"layers\",\"diff_ids\":[\"" + layerDigest + "\"]}}").getBytes(StandardCharsets.UTF_8);
        String configDigest = blob(dir, config);
        byte[] manifest = ("{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
                + "\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\"" + configDigest
                + "\",\"size\":" + config.length + "},\"layers\":[{\"mediaType\":"
                + "\"application/vnd.oci.image.layer.v1.tar\",\"digest\":\"" + layerDigest + "\",\"size\":"
                + layer.length + "}]}").getBytes(StandardCharsets.UTF_8);
        String manifestDigest = blob(dir, manifest);
        Files.writeString(dir.resolve("index.json"), "{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":"
                + "\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"" + manifestDigest + "\",\"size\":"
                + manifest.length + ",\"annotations\":{\"org.opencontainers.image.ref.name\":\"1\"}}]}");
        return dir;
    }

    static void file(TarArchiveOutputStream tar, String name, int mode, String text, int uid, int gid)
            throws IOException {
        byte[] b = text.getBytes(StandardCharsets.UTF_8);
        TarArchiveEntry e = new TarArchiveEntry(name);
        e.setMode(mode);
        e.setIds(uid, gid);
        e.setSize(b.length);
        tar.putArchiveEntry(e);
        tar.write(b);
        tar.closeArchiveEntry();
    }

    private static String blob(Path layout, byte[] b) throws IOException {
        try {
            String hex = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
            Files.write(layout.resolve("blobs/sha256/" + hex), b);
            return "sha256:" + hex;
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The image's layer directory (the one holding data/www). */
    private static Path dataLayer() throws IOException {
        try (Stream<Path> s = Files.list(tmp.resolve("storage/layers/sha256"))) {
            return s.filter(l -> Files.isDirectory(l.resolve("data"), LinkOption.NOFOLLOW_LINKS)).findFirst()
                    .orElseThrow();
        }
    }

    private static ContainerSpec.Builder inImage(String... args) {
        return probe(args).rootfs(null).image(IMAGE).entrypoint(List.of());
    }

    private static long owner(Path p) throws IOException {
        return ((Integer) Files.getAttribute(p, "unix:uid", LinkOption.NOFOLLOW_LINKS)).longValue();
    }

    private static List<String> mapLines(String text) {
        return text.lines().map(l -> l.trim().replaceAll("\\s+", " ")).toList();
    }

    @Test
    void rootInsideIsTheUserAndTheRestIsItsSubordinateRange() throws Exception {
        assertThat(run(probe("id")).stdout()).isEqualTo("uid=0 gid=0 euid=0 egid=0\n");
        assertThat(run(inImage("id")).stdout()).isEqualTo("uid=0 gid=0 euid=0 egid=0\n");
        assertThat(mapLines(run(probe("cat", "/proc/self/uid_map")).stdout()))
                .containsExactly("0 " + ids.uid() + " 1", "1 " + ids.subuid().start() + " " + ids.subuid().count());
        assertThat(mapLines(run(inImage("cat", "/proc/self/gid_map")).stdout()))
                .containsExactly("0 " + ids.gid() + " 1", "1 " + ids.subgid().start() + " " + ids.subgid().count());
    }

    @Test
    void withoutSubordinateIdsTheContainerHasTheSingleId() throws Exception {
        Path none = Files.createDirectories(tmp.resolve("no-subids-" + run));
        Files.writeString(none.resolve("subuid"), "");
        Files.writeString(none.resolve("subgid"), "");
        try (ContainerRuntime single = ContainerRuntime.builder().stateRoot(none.resolve("state"))
                .storageRoot(tmp.resolve("storage")).subordinateIds(none.resolve("subuid"), none.resolve("subgid"))
                .reconcile(false).build();
                Container c = single.start(run + "-single", probe("id", "--", "cat", "/proc/self/uid_map", "--", "cat",
                        "/proc/self/gid_map").build())) {
            List<String> out = mapLines(read(c.stdout()));
            assertThat(c.waitFor()).isEqualTo(ExitStatus.exited(0));
            assertThat(out).containsExactly("uid=0 gid=0 euid=0 egid=0", "0 " + ids.uid() + " 1", "0 " + ids.gid() + " 1");
            try (ExecProcess p = c.exec(ExecSpec.builder().command("/bin/probe", "id").build())) {
                assertThat(p.onExit().get(60, TimeUnit.SECONDS)).as("exec in a single-id container")
                        .isNotNull();
            } catch (ContainerException e) {
                assertThat(e).hasMessageContaining("not running"); // it ended: exec refused plainly
            }
        }
    }

    @Test
    void aFileMadeOnABindMountIsTheUsersOnTheHost() throws Exception {
        Path shared = Files.createDirectories(tmp.resolve("shared-" + run));
        Result r = run(probe("write", "/mnt/made", "x", "--", "owner", "/mnt/made", "--", "owner", "/mnt")
                .mounts(List.of(Mount.bind(shared, "/mnt"))));
        assertThat(r.stdout()).isEqualTo("0:0\n0:0\n");
        assertThat(owner(shared.resolve("made"))).isEqualTo(ids.uid());
        Path ro = Files.createDirectories(tmp.resolve("ro-" + run));
        assertThat(run(probe("write", "/mnt/x", "y").mounts(List.of(Mount.bind(ro, "/mnt", "ro")))).stdout())
                .contains("Read-only file system");
        assertThat(ro.resolve("x")).doesNotExist();
    }

    @Test
    void aReadOnlyRecursiveBindIsReadOnlyInItsSubmountsToo() throws Exception {
        // /dev carries the host's submounts (/dev/shm: tmpfs, mode 1777, writable by the user): bound "ro",
        // they must be read-only too, as in a rootful container (a remount would reach the top mount only)
        Path shm = Path.of("/dev/shm/berth-ro-" + run);
        try {
            String out = run(probe("write", "/hostdev/shm/berth-ro-" + run, "x", "--", "write", "/hostdev/null", "x")
                    .mounts(List.of(Mount.bind(Path.of("/dev"), "/hostdev", "ro")))).stdout();
            assertThat(out).contains("/hostdev/shm/berth-ro-" + run + ": Read-only file system");
            assertThat(shm).doesNotExist();
        } finally {
            Files.deleteIfExists(shm);
        }
    }

    @Test
    void anImageEntryOwnedBy33IsUid33InsideAndItsMappedIdOnTheHost() throws Exception {
        Path layer = dataLayer();
        assertThat(run(inImage("owner", "/data/www", "--", "stat", "/data/suid", "--", "read", "/data/link", "5",
                "--", "owner", "/bin/probe").user("0")).stdout())
                .isEqualTo("33:33\nfile 4750 0:0\nread /data/link: www's\n0:0\n");
        long mapped = ids.subuid().start() + 32;
        assertThat(owner(layer.resolve("data/www"))).isEqualTo(mapped);
        assertThat(owner(layer.resolve("data/link"))).as("the symlink itself").isEqualTo(mapped);
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(layer.resolve("data/www"),
                LinkOption.NOFOLLOW_LINKS))).isEqualTo("rw-r-----");
        assertThat(owner(layer.resolve("bin/probe"))).isEqualTo(ids.uid());
        assertThat(Files.exists(layer.resolveSibling(layer.getFileName() + ".owners-applied"))).isTrue();
        // www (uid 33) reads its own file; a second start does not chown again (the marker), and still sees 33
        assertThat(run(inImage("read", "/data/www", "5").user("33:33")).stdout()).isEqualTo("read /data/www: www's\n");
    }

    @Test
    void filesOfTheContainersOtherUsersGoWithItsWritableLayer() throws Exception {
        String id = run + "-users";
        Path made = tmp.resolve("storage/containers/" + id + "/upper/tmp/www-dir");
        try (Container c = runtime.start(id, inImage("mkdir", "/tmp/www-dir", "--", "write", "/tmp/www-dir/f", "x",
                "--", "owner", "/tmp/www-dir/f").user("33:33").build())) {
            assertThat(read(c.stdout())).endsWith("33:33\n");
            assertThat(c.waitFor()).isEqualTo(ExitStatus.exited(0));
            // the user cannot remove these on the host: a user namespace with its mapping does
            assertThat(owner(made)).isEqualTo(ids.subuid().start() + 32);
            assertThat(owner(made.resolve("f"))).isEqualTo(ids.subuid().start() + 32);
        }
        assertThat(tmp.resolve("storage/containers/" + id)).doesNotExist();
        assertThat(stateRoot.resolve(id)).doesNotExist();
    }

    @Test
    void theFilesOfARunningAndOfAnEndedContainerAreReachable() throws Exception {
        String id = run + "-files";
        Path host = Files.createDirectories(tmp.resolve("files-" + run));
        try (Container c = runtime.start(id, inImage("write", "/made", "inside", "--", "sleep", "60").build())) {
            Files.writeString(host.resolve("in"), "from the host");
            c.files().copyIn(host.resolve("in"), "/tmp/in");
            assertThat(exec(c, "read", "/tmp/in", "13")).isEqualTo("read /tmp/in: from the host\n");
            c.kill();
            c.waitFor();
            // ended: its root is mounted again by a holder in a user namespace of the user's
            c.files().copyOut("/made", host.resolve("made"));
            assertThat(host.resolve("made")).hasContent("inside");
        }
        assertThat(Files.readString(Path.of("/proc/self/mountinfo"))).doesNotContain(id);
        assertThat(tmp.resolve("storage/containers/" + id)).doesNotExist();
    }

    @Test
    void whatTheUserCannotReadStaysUnreadableInside() throws Exception {
        assertThat(run(probe("ls", "/rootdir").mounts(List.of(Mount.bind(Path.of("/root"), "/rootdir")))).stdout())
                .isEqualTo("/rootdir: Permission denied\n");
        Path shadow = Path.of("/etc/shadow");
        assertThat(Files.isReadable(shadow)).isFalse();
        assertThat(run(probe("cat", "/shadow").mounts(List.of(Mount.bind(shadow, "/shadow")))).stdout())
                .isEqualTo("/shadow: Permission denied\n");
    }

    @Test
    void everyRootOnlyOptionSaysSoInOneLineAndLeavesNothing() throws Exception {
        List<ContainerSpec.Builder> specs = List.of(
                probe("true").resources(Resources.builder().memoryMax(64L << 20).build()),
                probe("true").network(NetworkMode.bridge()),
                probe("true").mounts(List.of(Mount.bind(tmp, "/mnt", "idmap"))),
                probe("true").rlimit(Rlimit.Type.NOFILE, 1024, Rlimit.UNLIMITED),
                probe("true").userNamespace(UserNamespace.of(100000, 65536)),
                probe("true").userNamespace(UserNamespace.of(List.of(IdMapping.of(0, ids.uid(), 1),
                        IdMapping.of(1, ids.subuid().start() + ids.subuid().count(), 10)),
                        List.of(IdMapping.of(0, ids.gid(), 1)))));
        List<String> expected = List.of("rootless: --memory needs a delegated cgroup v2 subtree", "rootless: network", "rootless: mounts[0] option idmap",
                "rootless: rlimits", "rootless: userNamespace", "rootless: userNamespace uid mapping 1:"
                        + (ids.subuid().start() + ids.subuid().count()));
        for (int i = 0; i < specs.size(); i++) {
            String id = run + "-refused-" + i;
            ContainerSpec spec = specs.get(i).build();
            assertThatThrownBy(() -> runtime.start(id, spec)).isInstanceOf(ContainerStartException.class)
                    .hasMessageStartingWith(expected.get(i)).hasMessageContaining("docs/rootless.md")
                    .satisfies(e -> assertThat(e.getMessage()).doesNotContain("\n"));
            assertThat(stateRoot.resolve(id)).doesNotExist();
            assertThat(tmp.resolve("storage/containers/" + id)).doesNotExist();
        }
    }

    @Test
    void stopKillExecWorkWithoutCgroupsAndLeaveNothing() throws Exception {
        String id = run + "-life";
        long pid;
        try (Container c = runtime.start(id, inImage("sleep", "60").build())) {
            pid = c.pid();
            assertThat(exec(c, "id")).isEqualTo("uid=0 gid=0 euid=0 egid=0\n");
            assertThat(exec(c, "owner", "/data/www")).isEqualTo("33:33\n");
            assertThatThrownBy(c::pause).hasMessageContaining("cgroup");
            assertThat(c.stop(Duration.ofSeconds(10)).signal()).isEqualTo(15);
        }
        assertThat(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)).isFalse();
        assertThat(stateRoot.resolve(id)).doesNotExist();
        assertThat(tmp.resolve("storage/containers/" + id)).doesNotExist();
        try (Container c = runtime.start(run + "-kill", probe("sleep", "60").build())) {
            c.kill();
            assertThat(c.waitFor().signal()).isEqualTo(9);
        }
        assertThat(Files.readString(Path.of("/proc/self/mountinfo"))).doesNotContain(run);
    }

    @Test
    void aDetachedContainerIsFoundAndStoppedByANewRuntimeOnTheSameRoots() throws Exception {
        String id = run + "-detached";
        Path state = tmp.resolve("detach-state-" + run);
        long pid;
        try (ContainerRuntime first = ContainerRuntime.builder().stateRoot(state).storageRoot(tmp.resolve("storage"))
                .build()) {
            Container c = first.start(id, inImage("sleep", "60").detached(true).stdout(Stdio.discard())
                    .stderr(Stdio.discard()).build());
            pid = c.pid();
        }
        assertThat(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)).isTrue();
        try (ContainerRuntime second = ContainerRuntime.builder().stateRoot(state).storageRoot(tmp.resolve("storage"))
                .build()) {
            Container c = second.container(id).orElseThrow();
            assertThat(exec(c, "id")).isEqualTo("uid=0 gid=0 euid=0 egid=0\n");
            c.stop(Duration.ofSeconds(10));
            second.remove(id, false);
        }
        assertThat(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)).isFalse();
        assertThat(state.resolve(id)).doesNotExist();
        assertThat(tmp.resolve("storage/containers/" + id)).doesNotExist();
    }

    @Test
    void aKilledJvmsContainersAreReconciledByTheNextRuntime() throws Exception {
        Path state = tmp.resolve("crash-state-" + run);
        Process child = CrashRecoveryIT.child(state, tmp.resolve("storage"), IMAGE, tmp.resolve(run + ".err"), run, 2);
        List<Long> pids = new ArrayList<>();
        try (var in = new java.io.BufferedReader(new java.io.InputStreamReader(child.getInputStream()))) {
            for (String line = in.readLine(); line != null && !line.equals("ready"); line = in.readLine()) {
                pids.add(Long.parseLong(line.split(" ")[2]));
            }
        }
        Thread.sleep(300); // into its churn
        child.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
        assertThat(pids).as("containers started (errors in " + tmp.resolve(run + ".err") + ")").hasSize(2);
        try (ContainerRuntime next = ContainerRuntime.builder().stateRoot(state).storageRoot(tmp.resolve("storage"))
                .reconcile(false).build()) {
            Reconciliation r = next.reconcile();
            assertThat(r.failed()).isEmpty();
            assertThat(r.removed()).contains(run + "-0", run + "-1");
            assertThat(next.list()).isEmpty();
        }
        for (long p : pids) {
            assertThat(ProcessHandle.of(p).map(ProcessHandle::isAlive).orElse(false)).as("pid " + p).isFalse();
        }
        try (Stream<Path> s = Files.list(tmp.resolve("storage/containers"))) {
            assertThat(s.map(p -> p.getFileName().toString()).filter(n -> n.startsWith(run))).isEmpty();
        }
    }
}
