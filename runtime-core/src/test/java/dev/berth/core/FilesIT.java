package dev.berth.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.core.testing.ContainerTestSupport;
import dev.berth.core.testing.HostCommand;
import dev.berth.image.ImportProgress;
import dev.berth.testing.RequiresRoot;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.junit.jupiter.api.Test;

/**
 * Files into and out of containers, running and ended: tar streams, docker's cp rules, and
 * symlinks a container plants, which resolve inside its root whatever they say.
 */
@RequiresRoot
class FilesIT extends ContainerTestSupport {

    /** A tar of {@code name -> content} regular files (names ending in / are directories). */
    static byte[] tar(Map<String, String> entries) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (TarArchiveOutputStream t = new TarArchiveOutputStream(out)) {
            for (Map.Entry<String, String> e : entries.entrySet()) {
                TarArchiveEntry te = new TarArchiveEntry(e.getKey());
                if (!e.getKey().endsWith("/")) {
                    byte[] b = e.getValue().getBytes(StandardCharsets.UTF_8);
                    te.setSize(b.length);
                    te.setMode(0640);
                    te.setUserId(1000);
                    te.setGroupId(50);
                    t.putArchiveEntry(te);
                    t.write(b);
                } else {
                    te.setMode(0750);
                    t.putArchiveEntry(te);
                }
                t.closeArchiveEntry();
            }
        }
        return out.toByteArray();
    }

    /** name -> content (or "->target" for a symlink, "=>first" for a hard link, "/" for a directory). */
    static Map<String, String> untar(InputStream in) throws IOException {
        Map<String, String> out = new LinkedHashMap<>();
        try (TarArchiveInputStream t = new TarArchiveInputStream(in)) {
            for (TarArchiveEntry e = t.getNextEntry(); e != null; e = t.getNextEntry()) {
                out.put(e.getName(), e.isDirectory() ? "/" : e.isSymbolicLink() ? "->" + e.getLinkName()
                        : e.isLink() ? "=>" + e.getLinkName() : new String(t.readAllBytes(), StandardCharsets.UTF_8));
            }
        }
        return out;
    }

    /** The mount table's lines under this test's directory (the host's other mounts come and go with other work). */
    private static String ownMounts() throws IOException {
        return Files.readAllLines(Path.of("/proc/self/mountinfo")).stream()
                .filter(l -> l.contains(tmp.toString())).collect(java.util.stream.Collectors.joining("\n"));
    }

    private static Map<String, String> entries(Object... kv) {
        Map<String, String> m = new LinkedHashMap<>();
        for (int i = 0; i < kv.length; i += 2) {
            m.put((String) kv[i], (String) kv[i + 1]);
        }
        return m;
    }

    @Test
    void aTarGoesIntoARunningContainerAndComesBackOut() throws Exception {
        try (Container c = runtime.start(probe("sleep", "30").build())) {
            c.copyTo(Path.of("/tmp"), new ByteArrayInputStream(tar(entries("d/", "", "d/a.txt", "alpha", "d/sub/b.txt", "beta"))));
            Result seen = run(probe("cat", "/tmp/d/a.txt")); // another container: /tmp is the shared rootfs directory here
            assertThat(seen.stdout()).isEqualTo("alpha");
            Map<String, String> back = untar(c.copyFrom("/tmp/d"));
            assertThat(back).containsEntry("d/", "/").containsEntry("d/a.txt", "alpha").containsEntry("d/sub/b.txt", "beta");
            assertThat(untar(c.copyFrom("/tmp/d/."))).containsEntry("a.txt", "alpha").doesNotContainKey("d/");
            c.kill();
        } finally {
            HostCommand.run("rm", "-rf", dev.berth.core.testing.TestRootfs.path().resolve("tmp/d").toString());
        }
    }

    @Test
    void ownersModesAndLinksSurviveTheRoundTrip() throws Exception {
        Path image = HostCommand.umociImage(tmp.resolve("files-image"), root -> {
            Files.createDirectories(root.resolve("data"));
            Files.writeString(root.resolve("data/file"), "content");
            Files.createSymbolicLink(root.resolve("data/link"), Path.of("file"));
            Files.createLink(root.resolve("data/hard"), root.resolve("data/file"));
        });
        runtime.images().importImage(image, Optional.of("it/files:1"), ImportProgress.NONE);
        try (Container c = runtime.start(probe("sleep", "30").rootfs(null).image("it/files:1").build())) {
            assertThat(untar(c.copyFrom("/data"))).containsEntry("data/file", "content")
                    .containsEntry("data/link", "->file").containsEntry("data/hard", "=>data/file");
            c.copyTo(Path.of("/data"), new ByteArrayInputStream(tar(entries("owned", "x"))));
            assertThat(untar(c.copyFrom("/data/owned"))).containsEntry("owned", "x");
            // it went into this container's writable layer, with the archive's owner and mode
            Path upper = runtime.storageRoot().resolve("containers").resolve(c.id()).resolve("upper/data/owned");
            assertThat(Files.getAttribute(upper, "unix:uid")).isEqualTo(1000);
            assertThat(Files.getAttribute(upper, "unix:gid")).isEqualTo(50);
            assertThat((Integer) Files.getAttribute(upper, "unix:mode") & 07777).isEqualTo(0640);
            assertThat(run(probe("stat", "/data/owned").rootfs(null).image("it/files:1")).stdout())
                    .as("a sibling container of the image").contains("No such file");
            c.kill();
        }
    }

    /**
     * A container plants a symlink that points out of its root; copies through it land in the
     * root's own /etc (resolved inside the root), never the host's, and reads return the
     * container's file, never the host's.
     */
    @Test
    void aSymlinkTheContainerPlantsCannotReachTheHost() throws Exception {
        Path image = HostCommand.umociImage(tmp.resolve("escape-image"), root -> { });
        runtime.images().importImage(image, Optional.of("it/escape:1"), ImportProgress.NONE);
        String marker = "berth-escape-" + System.nanoTime();
        try (Container c = runtime.start(probe("symlink", "/../../../../../../etc", "/out", "--",
                "symlink", "../../../../../../../etc", "/rel", "--", "mkdir", "/d", "--", "symlink", "/etc", "/d/x", "--",
                "sleep", "30").rootfs(null).image("it/escape:1").build())) {
            awaitPath(c, "/d/x");
            c.copyTo(Path.of("/out"), new ByteArrayInputStream(tar(entries(marker, "owned"))));
            c.copyTo(Path.of("/rel"), new ByteArrayInputStream(tar(entries(marker + "-rel", "owned"))));
            assertThat(Path.of("/etc", marker)).doesNotExist();
            assertThat(Path.of("/etc", marker + "-rel")).doesNotExist();
            assertThat(untar(c.copyFrom("/etc/" + marker))).containsEntry(marker, "owned");
            // reading through the link: the container's passwd (the test root's), not the host's
            assertThat(untar(c.copyFrom("/out/passwd")).get("passwd")).contains("alice:x:1000");
            // an entry whose path crosses a symlink already in the destination is refused, not followed
            assertThatThrownBy(() -> c.copyTo(Path.of("/d"), new ByteArrayInputStream(tar(entries("x/" + marker + "-2", "no")))))
                    .isInstanceOf(IOException.class).hasMessageContaining("x is not a directory of the destination");
            assertThat(Path.of("/etc", marker + "-2")).doesNotExist();
            // and out of the container: a symlink is copied as a symlink, nothing of the host's /etc comes along
            Path host = tmp.resolve("out-of-container");
            c.files().copyOut("/out", host);
            assertThat(Files.isSymbolicLink(host)).isTrue();
            c.kill();
        }
    }

    private static void awaitPath(Container c, String path) throws Exception {
        for (int i = 0; i < 200; i++) {
            try {
                c.copyFrom(path).close();
                return;
            } catch (NoSuchFileException e) {
                Thread.sleep(20);
            }
        }
        throw new AssertionError(path + " never appeared in container " + c.id());
    }

    /** After the container ended and before it is closed, its root (the overlay of its layers) is still reachable. */
    @Test
    void anEndedContainersFilesAreReachableUntilItIsClosed() throws Exception {
        Path image = HostCommand.umociImage(tmp.resolve("ended-image"), root ->
                Files.writeString(root.resolve("etc/from-image"), "image"));
        runtime.images().importImage(image, Optional.of("it/ended:1"), ImportProgress.NONE);
        String mountsBefore = ownMounts();
        Container c = runtime.start(probe("write", "/etc/from-container", "written").rootfs(null).image("it/ended:1").build());
        assertThat(c.onExit().get(30, TimeUnit.SECONDS)).isEqualTo(ExitStatus.exited(0));
        assertThat(untar(c.copyFrom("/etc/from-image"))).containsEntry("from-image", "image");
        assertThat(untar(c.copyFrom("/etc/from-container"))).containsEntry("from-container", "written");
        c.copyTo(Path.of("/etc"), new ByteArrayInputStream(tar(entries("late", "after the end"))));
        assertThat(untar(c.copyFrom("/etc/late"))).containsEntry("late", "after the end");
        Path upper = runtime.storageRoot().resolve("containers").resolve(c.id()).resolve("upper");
        assertThat(upper.resolve("etc/late")).hasContent("after the end"); // in its writable layer
        assertThat(ownMounts()).isEqualTo(mountsBefore);
        c.close();
        assertThatThrownBy(c::files).isInstanceOf(IllegalStateException.class).hasMessageContaining("closed");
    }

    @Test
    void copyInAndOutFollowDockersRules() throws Exception {
        Path src = Files.createDirectories(tmp.resolve("rules/src"));
        Files.writeString(src.resolve("f"), "file");
        Files.createDirectories(src.resolve("sub"));
        Files.writeString(src.resolve("sub/g"), "nested");
        try (Container c = runtime.start(probe("mkdir", "/tmp/rules-" + "x", "--", "sleep", "30").build())) {
            ContainerFiles f = c.files();
            String base = "/tmp/rules-x";
            awaitPath(c, base);
            f.copyIn(src.resolve("f"), base + "/renamed");            // file -> missing: that name
            f.copyIn(src.resolve("f"), base);                         // file -> directory: inside, own name
            f.copyIn(src, base + "/copy");                            // dir -> missing: becomes it
            f.copyIn(src, base);                                      // dir -> directory: inside, own name
            f.copyIn(Path.of(src + "/."), base + "/copy");            // dir/. -> directory: its contents
            assertThat(untar(f.copyFrom(base + "/."))).containsEntry("renamed", "file").containsEntry("f", "file")
                    .containsEntry("copy/f", "file").containsEntry("copy/sub/g", "nested")
                    .containsEntry("src/f", "file").containsEntry("src/sub/g", "nested")
                    .doesNotContainKey("copy/src/");
            assertThatThrownBy(() -> f.copyIn(src, base + "/renamed")).hasMessageContaining("cannot copy a directory to a file");
            assertThatThrownBy(() -> f.copyIn(src.resolve("f"), base + "/no/such/dir/x")).isInstanceOf(NoSuchFileException.class);
            assertThatThrownBy(() -> f.copyIn(src.resolve("f"), base + "/missing/")).isInstanceOf(NoSuchFileException.class);

            Path out = tmp.resolve("rules/out");
            f.copyOut(base + "/copy", out);                           // dir -> missing host path
            assertThat(out.resolve("sub/g")).hasContent("nested");
            f.copyOut(base + "/renamed", out);                        // file -> host directory
            assertThat(out.resolve("renamed")).hasContent("file");
            assertThat(Files.getAttribute(out.resolve("renamed"), "unix:uid")).isEqualTo(0);
            c.kill();
        } finally {
            HostCommand.run("rm", "-rf", dev.berth.core.testing.TestRootfs.path().resolve("tmp/rules-x").toString());
        }
    }

    @Test
    void anotherRuntimeReachesARunningContainerByIdButNotAnEndedOneItsStarterHolds() throws Exception {
        try (ContainerRuntime other = ContainerRuntime.builder().stateRoot(stateRoot).storageRoot(tmp.resolve("storage"))
                .build();
                Container c = runtime.start("shared-files", probe("sleep", "30").build())) {
            ContainerFiles f = other.files("shared-files");
            assertThat(untar(f.copyFrom("/etc/passwd")).get("passwd")).contains("alice:x:1000");
            assertThatThrownBy(() -> other.files("no-such")).isInstanceOf(ContainerException.class)
                    .hasMessage("no such container: no-such");
            c.kill();
            c.onExit().get(30, TimeUnit.SECONDS);
            // ended, but its starter holds it (attached, not closed): another runtime's copy is refused at once
            assertThatThrownBy(() -> other.files("shared-files").copyFrom("/etc/passwd")).isInstanceOf(IOException.class)
                    .hasMessageContaining("held by another runtime");
            assertThatThrownBy(() -> f.copyFrom("/etc/passwd")).isInstanceOf(IOException.class)
                    .hasMessageContaining("is gone");
        }
    }
}
