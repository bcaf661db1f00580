package dev.berth.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.testing.Preconditions;
import com.google.cloud.tools.jib.api.Containerizer;
import com.google.cloud.tools.jib.api.Jib;
import com.google.cloud.tools.jib.api.TarImage;
import com.google.cloud.tools.jib.api.buildplan.AbsoluteUnixPath;
import com.google.cloud.tools.jib.api.buildplan.FileEntriesLayer;
import com.google.cloud.tools.jib.api.buildplan.FilePermissions;
import dev.berth.core.testing.ContainerTestSupport;
import dev.berth.core.testing.HostCommand;
import dev.berth.core.testing.LoopDevice;
import dev.berth.testing.RequiresRoot;
import dev.berth.core.testing.TestRootfs;
import dev.berth.image.Image;
import dev.berth.image.ImageStore;
import dev.berth.image.ImportProgress;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Containers on overlay roots of images made by real producers: umoci (two layers, the
 * second deletes a file and makes a directory opaque), skopeo (oci-archive and
 * docker-archive of the same image) and Jib.
 */
@RequiresRoot
class ImageIT extends ContainerTestSupport {
    static Path work;

    @BeforeAll
    static void setUp() throws Exception {
        work = Files.createDirectories(tmp.resolve("work"));
    }



    /** umoci layout L:t — layer 1 the test rootfs plus /etc/gone.txt and /data/{a,b}; layer 2 deletes and replaces. */
    private static synchronized Path umociLayout() throws Exception {
        Preconditions.requireTool("umoci", "umoci");
        Path w = work.resolve("umoci");
        if (Files.exists(w.resolve("L"))) {
            return w;
        }
        Files.createDirectories(w);
        HostCommand.run(w, "umoci", "init", "--layout", "L");
        HostCommand.run(w, "umoci", "new", "--image", "L:t");
        HostCommand.run(w, "umoci", "unpack", "--image", "L:t", "B");
        HostCommand.run(w, "cp", "-a", TestRootfs.path() + "/.", w.resolve("B/rootfs").toString());
        Files.writeString(w.resolve("B/rootfs/etc/gone.txt"), "to be deleted");
        Files.createDirectories(w.resolve("B/rootfs/data"));
        Files.writeString(w.resolve("B/rootfs/data/a"), "a");
        Files.writeString(w.resolve("B/rootfs/data/b"), "b");
        HostCommand.run(w, "umoci", "repack", "--image", "L:t", "B");
        HostCommand.run(w, "rm", "-rf", "B");
        HostCommand.run(w, "umoci", "unpack", "--image", "L:t", "B");
        Files.delete(w.resolve("B/rootfs/etc/gone.txt"));
        HostCommand.run(w, "rm", "-rf", w.resolve("B/rootfs/data").toString());
        Files.createDirectories(w.resolve("B/rootfs/data"));
        Files.writeString(w.resolve("B/rootfs/data/c"), "only c");
        HostCommand.run(w, "umoci", "repack", "--image", "L:t", "B");
        HostCommand.run(w, "umoci", "config", "--image", "L:t", "--config.cmd", "/bin/probe", "--config.cmd", "hello");
        return w;
    }

    private static void assertDeletionsTookEffect(String image) throws Exception {
        assertThat(run(probe("stat", "/etc/gone.txt").rootfs(null).image(image)).stdout())
                .contains("/etc/gone.txt: No such file or directory");
        assertThat(run(probe("stat", "/data/a").rootfs(null).image(image)).stdout()).contains("No such file or directory");
        assertThat(run(probe("cat", "/data/c").rootfs(null).image(image)).stdout()).isEqualTo("only c");
        assertThat(run(probe("cat", "/etc/passwd").rootfs(null).image(image)).stdout()).contains("alice:x:1000");
    }

    @Test
    void umociLayoutRunsWithItsDeletions() throws Exception {
        Path w = umociLayout();
        Image img = runtime.images().importImage(w.resolve("L"), Optional.of("it/umoci:t"), ImportProgress.NONE);
        assertThat(img.diffIds()).hasSize(2);
        assertDeletionsTookEffect("it/umoci:t");
        // the image's Cmd runs when the spec gives none
        try (Container c = runtime.start(ContainerSpec.builder().image("it/umoci:t").stdout(Stdio.pipe()).build())) {
            assertThat(new String(c.stdout().readAllBytes())).startsWith("hello from a berth container");
            assertThat(c.onExit().get(30, TimeUnit.SECONDS)).isEqualTo(ExitStatus.exited(0));
        }
    }

    @Test
    void skopeoArchivesRunWithTheirDeletions() throws Exception {
        Path w = umociLayout();
        Preconditions.requireTool("skopeo", "skopeo");
        HostCommand.run(w, "skopeo", "--insecure-policy", "copy", "oci:L:t", "oci-archive:X.tar:t");
        HostCommand.run(w, "skopeo", "--insecure-policy", "copy", "oci:L:t", "docker-archive:Y.tar:it/docker:t");
        runtime.images().importImage(w.resolve("X.tar"), Optional.of("it/ociarchive:t"), ImportProgress.NONE);
        Image docker = runtime.images().importImage(w.resolve("Y.tar"), Optional.empty(), ImportProgress.NONE);
        assertDeletionsTookEffect("it/ociarchive:t");
        assertDeletionsTookEffect(docker.name());
    }

    @Test
    void aJibImageRuns() throws Exception {
        Path tar = work.resolve("jib.tar");
        Jib.fromScratch()
                .addFileEntriesLayer(FileEntriesLayer.builder()
                        .addEntry(TestRootfs.path().resolve("bin/probe"), AbsoluteUnixPath.get("/bin/probe"),
                                FilePermissions.fromOctalString("755"))
                        .build())
                .setEntrypoint("/bin/probe", "echo")
                .setProgramArguments("built", "by", "jib")
                .containerize(Containerizer.to(TarImage.at(tar).named("it/jib:1"))
                        .setBaseImageLayersCache(work.resolve("jib-cache"))
                        .setApplicationLayersCache(work.resolve("jib-app-cache")));
        Image img = runtime.images().importImage(tar, Optional.empty(), ImportProgress.NONE);
        try (Container c = runtime.start(ContainerSpec.builder().image(img.name()).stdout(Stdio.pipe()).build())) {
            assertThat(new String(c.stdout().readAllBytes())).isEqualTo("built by jib\n");
            assertThat(c.onExit().get(30, TimeUnit.SECONDS)).isEqualTo(ExitStatus.exited(0));
        }
        // a cmd override keeps the entrypoint (Docker semantics)
        assertThat(run(ContainerSpec.builder().image(img.name()).command("overridden").stdout(Stdio.pipe())).stdout())
                .isEqualTo("overridden\n");
    }

    /** A one-file Jib image (no /proc, /sys, /dev, /tmp in it), as distroless and scratch images are. */
    private static synchronized String minimalJibImage() throws Exception {
        Path tar = work.resolve("jib-minimal.tar");
        if (!Files.exists(tar)) {
            Jib.fromScratch()
                    .addFileEntriesLayer(FileEntriesLayer.builder()
                            .addEntry(TestRootfs.path().resolve("bin/probe"), AbsoluteUnixPath.get("/probe"),
                                    FilePermissions.fromOctalString("755"))
                            .build())
                    .setEntrypoint("/probe")
                    .containerize(Containerizer.to(TarImage.at(tar).named("it/minimal:1"))
                            .setBaseImageLayersCache(work.resolve("jib-cache"))
                            .setApplicationLayersCache(work.resolve("jib-app-cache")));
        }
        return runtime.images().importImage(tar, Optional.empty(), ImportProgress.NONE).name();
    }

    @Test
    void aMinimalImageRunsWithAReadOnlyRoot() throws Exception {
        String image = minimalJibImage();
        Result r = run(ContainerSpec.builder().image(image).readonlyRootfs(true).stdout(Stdio.pipe())
                .command("write", "/new-file", "x", "--", "stat", "/proc", "--", "cat", "/proc/self/mountinfo"));
        assertThat(r.stdout()).contains("/new-file: Read-only file system", "dir 555");
        String rootLine = r.stdout().lines().map(l -> l.split(" ")).filter(f -> f.length > 6 && f[4].equals("/"))
                .map(f -> String.join(" ", f)).findFirst().orElseThrow();
        assertThat(rootLine.split(" ")[5]).as("root mount options").contains("ro").contains("nodev");
        // and writable without --read-only, still nodev
        Result rw = run(ContainerSpec.builder().image(image).stdout(Stdio.pipe())
                .command("write", "/new-file", "x", "--", "cat", "/new-file"));
        assertThat(rw.stdout()).isEqualTo("x");
    }

    @Test
    void aDeviceNodeShippedInAnImageDoesNotOpen() throws Exception {
        try (LoopDevice loop = LoopDevice.attach(work)) {
            Path layout = HostCommand.umociImage(work.resolve("umoci-dev"), rootfs -> HostCommand.run("mknod", "-m",
                    "666", rootfs.resolve("disk").toString(), "b", Long.toString(loop.major), Long.toString(loop.minor)));
            runtime.images().importImage(layout, Optional.of("it/devnode:t"), ImportProgress.NONE);
            Result r = run(probe("stat", "/disk", "--", "read", "/disk", "22", "--", "overwrite", "/disk", "OWNED")
                    .rootfs(null).image("it/devnode:t")
                    .device(Device.fromHost(loop.node, "/dev/granted", "rw"))); // the cgroup would allow it
            assertThat(r.stdout()).contains("open /disk: Permission denied").doesNotContain(LoopDevice.SECRET, "wrote");
            assertThat(loop.content(LoopDevice.SECRET.length())).isEqualTo(LoopDevice.SECRET);
        }
    }

    @Test
    void noOtherHostUserReachesTheStoreOrAContainersWritableLayer() throws Exception {
        Path w = umociLayout();
        runtime.images().importImage(w.resolve("L"), Optional.of("it/private:t"), ImportProgress.NONE);
        // the test's directory and both roots are opened up, as a root a user chose might be: only the
        // modes of what Berth makes below them stand in the way
        for (Path p : List.of(tmp, runtime.storageRoot(), runtime.stateRoot())) {
            Files.setPosixFilePermissions(p, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
        }
        try (Container c = runtime.start(probe("install", "/bin/probe", "/suid-probe", "4755", "--", "sleep", "30")
                .rootfs(null).image("it/private:t").build())) {
            Path upper = runtime.storageRoot().resolve("containers").resolve(c.id()).resolve("upper");
            // until the probe's chmod: it creates the copy 0600 and sets 4755 once it is written
            for (int i = 0; i < 200 && !(Files.exists(upper.resolve("suid-probe"))
                    && ((Integer) Files.getAttribute(upper.resolve("suid-probe"), "unix:mode") & 04000) != 0); i++) {
                Thread.sleep(25);
            }
            assertThat(Files.getPosixFilePermissions(upper.resolve("suid-probe")))
                    .contains(java.nio.file.attribute.PosixFilePermission.OWNER_EXECUTE);
            assertThat(((Integer) Files.getAttribute(upper.resolve("suid-probe"), "unix:mode")) & 04000).isNotZero();
            String asNobody = asNobody("ls " + runtime.storageRoot().resolve("containers") + "; "
                    + upper.resolve("suid-probe") + " id; ls " + runtime.stateRoot().resolve(c.id()));
            assertThat(asNobody).doesNotContain(c.id() + "\n", "euid=0", "state.json")
                    .contains("Permission denied");
            assertThat(Files.getPosixFilePermissions(runtime.storageRoot().resolve("containers")))
                    .isEqualTo(java.nio.file.attribute.PosixFilePermissions.fromString("rwx------"));
            c.kill();
        }
    }

    /** Runs a shell command as the unprivileged host user nobody; returns what it printed. */
    private static String asNobody(String script) throws Exception {
        Process p = new ProcessBuilder("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "/bin/sh", "-c",
                script).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        p.waitFor(30, TimeUnit.SECONDS);
        return out;
    }

    @Test
    void writesLandOnlyInTheContainersUpperDirectoryAndContainersShareLowerLayers() throws Exception {
        Path w = umociLayout();
        runtime.images().importImage(w.resolve("L"), Optional.of("it/shared:t"), ImportProgress.NONE);
        ImageStore store = runtime.images();
        try (Container a = runtime.start(probe("sleep", "30").rootfs(null).image("it/shared:t").build());
             Container b = runtime.start(probe("sleep", "30").rootfs(null).image("it/shared:t").build())) {
            long unpacked = store.stats().layersUnpacked();
            Path upperA = runtime.storageRoot().resolve("containers").resolve(a.id()).resolve("upper");
            Path upperB = runtime.storageRoot().resolve("containers").resolve(b.id()).resolve("upper");
            assertThat(upperA).isDirectory();
            assertThat(upperB).isDirectory();
            // both overlays use the same lower layers
            String mountsA = Files.readString(Path.of("/proc/" + a.pid() + "/mountinfo"));
            String mountsB = Files.readString(Path.of("/proc/" + b.pid() + "/mountinfo"));
            String lowerA = mountsA.replaceAll("(?s).*lowerdir=([^,\\s]*).*", "$1");
            String lowerB = mountsB.replaceAll("(?s).*lowerdir=([^,\\s]*).*", "$1");
            assertThat(lowerA).isNotEmpty().isEqualTo(lowerB);
            assertThat(store.stats().layersUnpacked()).isEqualTo(unpacked);
            a.kill();
            b.kill();
        }
        // a container writes; its write is in its upper dir, in no layer, and invisible to a sibling
        try (Container writer = runtime.start(probe("write", "/etc/written-by-a", "A").rootfs(null).image("it/shared:t")
                .build())) {
            assertThat(writer.onExit().get(30, TimeUnit.SECONDS)).isEqualTo(ExitStatus.exited(0));
            Path upper = runtime.storageRoot().resolve("containers").resolve(writer.id()).resolve("upper");
            assertThat(upper.resolve("etc/written-by-a")).hasContent("A");
            try (PreparedImageView v = new PreparedImageView(store, "it/shared:t")) {
                for (Path layer : v.lowerDirs()) {
                    assertThat(layer.resolve("etc/written-by-a")).doesNotExist();
                }
            }
            assertThat(run(probe("stat", "/etc/written-by-a").rootfs(null).image("it/shared:t")).stdout())
                    .contains("No such file or directory");
        }
    }

    @Test
    void closingAContainerRemovesItsUpperDirectory() throws Exception {
        Path w = umociLayout();
        runtime.images().importImage(w.resolve("L"), Optional.of("it/cleanup:t"), ImportProgress.NONE);
        Container c = runtime.start(probe("true").rootfs(null).image("it/cleanup:t").command("/bin/true").build());
        Path dir = runtime.storageRoot().resolve("containers").resolve(c.id());
        c.onExit().get(30, TimeUnit.SECONDS);
        assertThat(dir.resolve("upper")).isDirectory();
        c.close();
        assertThat(dir).doesNotExist();
        assertThat(runtime.storageRoot().resolve("pins").resolve(c.id())).doesNotExist();
    }

    @Test
    void removingAnImageInUseKeepsItsLayersUntilTheContainerIsClosed() throws Exception {
        Path w = umociLayout();
        Image img = runtime.images().importImage(w.resolve("L"), Optional.of("it/inuse:t"), ImportProgress.NONE);
        // a second name for the same content would keep the layers anyway: use content of its own
        Path own = HostCommand.umociImage(work.resolve("own"),
                rootfs -> Files.writeString(rootfs.resolve("etc/unique"), "unique " + System.nanoTime()));
        Image unique = runtime.images().importImage(own, Optional.of("it/unique:t"), ImportProgress.NONE);
        Path layer = runtime.images().layerDir(unique.diffIds().get(0));
        Container c = runtime.start(probe("sleep", "30").rootfs(null).image("it/unique:t").build());
        assertThat(runtime.images().remove("it/unique:t")).isTrue();
        assertThat(layer).isDirectory();                       // pinned by the running container
        assertThat(run(probe("cat", "/etc/unique").rootfs(null).image("it/inuse:t")).stdout()).contains("No such file");
        c.close();
        assertThat(layer).doesNotExist();                      // collected once nothing uses it
        assertThat(img.diffIds()).isNotEmpty();
    }

    @Test
    void aReadonlyImageRootRefusesWrites() throws Exception {
        Path w = umociLayout();
        runtime.images().importImage(w.resolve("L"), Optional.of("it/ro:t"), ImportProgress.NONE);
        Result r = run(probe("write", "/etc/x", "data").rootfs(null).image("it/ro:t").readonlyRootfs(true));
        assertThat(r.stdout()).contains("/etc/x: Read-only file system");
        assertThat(run(probe("cat", "/proc/self/mounts").rootfs(null).image("it/ro:t").readonlyRootfs(true)).stdout())
                .containsPattern("(?m)^overlay / overlay ro,");
    }

    @Test
    void anUnknownImageIsAClearStartError() {
        assertThatThrownBy(() -> runtime.start(ContainerSpec.builder().image("it/nope:1").build()))
                .isInstanceOf(ContainerStartException.class)
                .hasMessageStartingWith("image it/nope:1: ");
        assertThat(runtime.storageRoot().resolve("containers").toFile().list()).isNullOrEmpty();
    }

    /** Lists the lower layer directories of an image, pinning them while open. */
    private record PreparedImageView(dev.berth.image.PreparedImage p) implements AutoCloseable {
        PreparedImageView(ImageStore store, String ref) throws IOException {
            this(store.prepare(ref));
        }

        List<Path> lowerDirs() {
            return p.lowerDirs();
        }

        @Override
        public void close() {
            p.close();
        }
    }

    /** /etc/hosts, /etc/hostname, /etc/resolv.conf come from the state directory: no layer, no upper dir holds them. */
    @Test
    void generatedEtcFilesNeverReachTheLayersOrTheWritableLayer() throws Exception {
        Path w = umociLayout();
        runtime.images().importImage(w.resolve("L"), Optional.of("it/etc:t"), ImportProgress.NONE);
        try (Container c = runtime.start(probe("write", "/etc/hosts", "written inside", "--", "cat", "/etc/hosts",
                "--", "cat", "/etc/hostname").rootfs(null).image("it/etc:t").hostname("imaged").stdout(Stdio.pipe()).build())) {
            String out = new String(c.stdout().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
            assertThat(c.onExit().get(30, TimeUnit.SECONDS)).isEqualTo(ExitStatus.exited(0));
            assertThat(out).isEqualTo("written insideimaged\n");
            Path upper = runtime.storageRoot().resolve("containers").resolve(c.id()).resolve("upper");
            // at most an empty mount point (made in the upper dir when the image has none), never the content
            try (PreparedImageView v = new PreparedImageView(runtime.images(), "it/etc:t")) {
                List<Path> dirs = new java.util.ArrayList<>(v.lowerDirs());
                dirs.add(upper);
                for (Path dir : dirs) {
                    for (String f : List.of("hosts", "hostname", "resolv.conf")) {
                        Path file = dir.resolve("etc").resolve(f);
                        if (Files.exists(file)) {
                            assertThat(file).as(file.toString()).isEmptyFile();
                        }
                    }
                }
                assertThat(dirs).anyMatch(d -> Files.exists(d.resolve("etc/hosts")));
            }
            assertThat(runtime.stateRoot().resolve(c.id()).resolve("hosts")).hasContent("written inside");
            c.close();
            assertThat(runtime.stateRoot().resolve(c.id())).doesNotExist();
        }
    }
}
