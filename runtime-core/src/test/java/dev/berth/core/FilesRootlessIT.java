package dev.berth.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.core.testing.ContainerTestSupport;
import dev.berth.core.testing.RootlessIds;
import dev.berth.image.ImportProgress;
import dev.berth.testing.Preconditions;
import java.io.BufferedReader;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.commons.compress.archivers.tar.TarConstants;
import org.junit.jupiter.api.Test;

/**
 * Files out of a rootless container (.ci/rootless-suite.sh runs this as an unprivileged user; never as root): the
 * files of the container's other users (subordinate uids on disk, 0600 or in 0700 directories), which the user may
 * not read, are read through a reader in the user's namespace as rootless podman's {@code cp} reads them, for a
 * running and an ended container; symlinks are never followed out of the container's root, FIFOs never opened for
 * reading, no fd stays open, and a failed copy leaves nothing on the host.
 */
class FilesRootlessIT extends ContainerTestSupport {
    private static final String IMAGE = "it/files-rootless:1";
    private static long uid;
    private static long aliceOnHost;
    private final String run = "rlf" + Long.toHexString(System.nanoTime() & 0xffffff);

    @BeforeAll
    static void image() throws Exception {
        RootlessIds ids = RootlessIds.require();
        uid = ids.uid();
        aliceOnHost = ids.subuid().start() + 999;
        Path layout = ContainerRootlessIT.layout(tmp.resolve("layout"), tar -> { });
        runtime.images().importImage(layout, Optional.of(IMAGE), ImportProgress.NONE);
    }

    /**
     * A container in which alice (uid 1000) made /tmp/alice with pub (0644), secret (0600), private/ (0700) holding
     * f, and links to the host's /etc/shadow and the user's home, still running.
     */
    private Container withAlicesFiles(String id) throws Exception {
        Container c = runtime.start(id, probe("mkdir", "/tmp/alice", "--", "write", "/tmp/alice/pub", "public", "--",
                "install", "/tmp/alice/pub", "/tmp/alice/secret", "600", "--", "mkdir", "/tmp/alice/private", "--",
                "write", "/tmp/alice/private/f", "alice's", "--", "chmod", "/tmp/alice/private", "700", "--",
                "symlink", "/etc/shadow", "/tmp/alice/shadow", "--",
                "symlink", System.getProperty("user.home"), "/tmp/alice/home", "--",
                "symlink", "../../../../../../..", "/tmp/alice/up", "--",
                "echo", "ready", "--", "sleep", "60")
                .rootfs(null).image(IMAGE).entrypoint(List.of()).user("alice").build());
        awaitReady(c);
        return c;
    }

    /** Reads the container's output up to its "ready" line (what came before it is its commands' own). */
    private static void awaitReady(Container c) throws IOException {
        BufferedReader out = new BufferedReader(new InputStreamReader(c.stdout(), StandardCharsets.UTF_8));
        List<String> seen = new java.util.ArrayList<>();
        for (String line = out.readLine(); line != null; line = out.readLine()) {
            if (line.equals("ready")) {
                return;
            }
            seen.add(line);
        }
        throw new AssertionError("container " + c.id() + " ended before it was ready: " + seen);
    }

    private static List<String> listing(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    private static long fdCount() throws IOException {
        try (Stream<Path> s = Files.list(Path.of("/proc/self/fd"))) {
            return s.count();
        }
    }

    /** Alice's files copied out whole through the reader: contents, modes, links as links, nothing followed. */
    private static void alicesFilesAreCopied(Container c, Path host) throws Exception {
        long fds = fdCount();
        c.files().copyOut("/tmp/alice/secret", host.resolve("secret"));
        assertThat(host.resolve("secret")).hasContent("public");
        assertThat(Files.getAttribute(host.resolve("secret"), "unix:mode", LinkOption.NOFOLLOW_LINKS))
                .isEqualTo(0100600);
        assertThat(Files.getAttribute(host.resolve("secret"), "unix:uid", LinkOption.NOFOLLOW_LINKS))
                .as("a copy on the host is the user's").isEqualTo((int) uid);
        // through alice's 0700 directory, which the user may not search
        c.files().copyOut("/tmp/alice/private/f", host.resolve("f"));
        assertThat(host.resolve("f")).hasContent("alice's");
        c.files().copyOut("/tmp/alice", host.resolve("dir"));
        assertThat(listing(host.resolve("dir"))).containsExactly("home", "private", "pub", "secret", "shadow", "up");
        assertThat(host.resolve("dir/private/f")).hasContent("alice's");
        assertThat(Files.getAttribute(host.resolve("dir/private"), "unix:mode", LinkOption.NOFOLLOW_LINKS))
                .isEqualTo(040700);
        // links to host paths are copied as links, never followed
        assertThat(Files.isSymbolicLink(host.resolve("dir/shadow"))).isTrue();
        assertThat(Files.readSymbolicLink(host.resolve("dir/shadow"))).isEqualTo(Path.of("/etc/shadow"));
        assertThat(Files.readSymbolicLink(host.resolve("dir/home"))).isEqualTo(Path.of(System.getProperty("user.home")));
        // a path through a link resolves inside the container's root: the user's home is not there
        assertThatThrownBy(() -> c.files().copyOut("/tmp/alice/home/.m2", host.resolve("m2")))
                .isInstanceOf(java.nio.file.NoSuchFileException.class);
        assertThatThrownBy(() -> c.files().copyOut("/tmp/alice/up" + System.getProperty("user.home"), host.resolve("shadow")))
                .isInstanceOf(java.nio.file.NoSuchFileException.class);
        // .. stops at the container's root: /etc/hostname of the container, not of the host
        c.files().copyOut("/tmp/alice/../../../../../etc/hostname", host.resolve("hostname"));
        assertThat(Files.readString(host.resolve("hostname"))).isNotEqualTo(Files.readString(Path.of("/etc/hostname")));
        // the tar stream, whole
        List<String> names = new java.util.ArrayList<>();
        try (TarArchiveInputStream t = new TarArchiveInputStream(c.files().copyFrom("/tmp/alice"))) {
            for (TarArchiveEntry e = t.getNextTarEntry(); e != null; e = t.getNextTarEntry()) {
                names.add(e.getName() + (e.getName().equals("alice/private/f") ? "=" + new String(t.readAllBytes(),
                        StandardCharsets.UTF_8) + " " + e.getLongUserId() : ""));
            }
        }
        assertThat(names).contains("alice/", "alice/private/", "alice/private/f=alice's " + aliceOnHost,
                "alice/secret", "alice/shadow");
        assertThat(host.resolve("m2")).doesNotExist();
        assertThat(host.resolve("shadow")).doesNotExist();
        // the archiver thread closes the tree and its reader once the stream is written: asynchronously, so a
        // leak is an fd that never goes, not one still there the moment the reader has its last byte
        long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(10);
        while (fdCount() > fds && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertThat(fdCount()).as("no fd of a reader left in the JVM").isLessThanOrEqualTo(fds);
    }

    @Test
    void filesOfTheContainersOtherUsersAreCopiedThroughTheUserNamespaceRunningAndEnded() throws Exception {
        Preconditions.requireUnprivileged();
        Path host = Files.createDirectories(tmp.resolve("out-" + run));
        try (Container c = withAlicesFiles(run + "-running")) {
            alicesFilesAreCopied(c, host);
            c.kill();
            c.waitFor();
            // ended: the root held in a user namespace of the user's, read by a reader in it too
            Path ended = Files.createDirectories(tmp.resolve("ended-" + run));
            alicesFilesAreCopied(c, ended);
        }
        assertThat(Files.readString(Path.of("/proc/self/mountinfo"))).doesNotContain(run);
        assertThat(tmp.resolve("storage/containers/" + run + "-running")).doesNotExist();
        assertThat(ProcessHandle.current().children().filter(p -> p.info().command().orElse("")
                .endsWith("berth-init")).toList()).as("every reader and its monitor ended").isEmpty();
    }

    /** A tar with a directory holding a file, as a copy in gives it to the container. */
    private static byte[] fifoTar() throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (TarArchiveOutputStream t = new TarArchiveOutputStream(out)) {
            TarArchiveEntry d = new TarArchiveEntry("q/", TarConstants.LF_DIR, true);
            d.setMode(0755);
            t.putArchiveEntry(d);
            t.closeArchiveEntry();
            TarArchiveEntry r = new TarArchiveEntry("q/z");
            r.setSize(1);
            t.putArchiveEntry(r);
            t.write('z');
            t.closeArchiveEntry();
        }
        return out.toByteArray();
    }

    /** A FIFO is archived as a FIFO and never opened for reading (that would block the copy forever). */
    @Test
    void aFifoIsArchivedAsAFifoWithoutBlockingAndNotMadeOnTheHost() throws Exception {
        Preconditions.requireUnprivileged();
        Path host = Files.createDirectories(tmp.resolve("fifo-" + run));
        try (Container c = withAlicesFiles(run + "-fifo")) {
            c.copyTo(Path.of("/tmp"), new ByteArrayInputStream(fifoTar()));
            // a copy in makes no FIFO: one made in the writable layer shows in the root held again once it ended
            c.kill();
            c.waitFor();
            Path upper = tmp.resolve("storage/containers/" + c.id() + "/upper/tmp/q/pipe");
            assertThat(new ProcessBuilder("mkfifo", "-m", "644", upper.toString()).inheritIO().start().waitFor())
                    .isZero();
            // the tar stream holds it as a FIFO, reached without blocking
            java.util.concurrent.CompletableFuture<List<String>> stream = java.util.concurrent.CompletableFuture
                    .supplyAsync(() -> {
                        List<String> names = new java.util.ArrayList<>();
                        try (TarArchiveInputStream t = new TarArchiveInputStream(c.files().copyFrom("/tmp/q"))) {
                            for (TarArchiveEntry e = t.getNextTarEntry(); e != null; e = t.getNextTarEntry()) {
                                names.add(e.getName() + (e.isFIFO() ? " fifo " + Integer.toOctalString(e.getMode()) : ""));
                            }
                        } catch (IOException e) {
                            throw new java.io.UncheckedIOException(e);
                        }
                        return names;
                    });
            assertThat(stream.get(60, java.util.concurrent.TimeUnit.SECONDS)).containsExactly("q/", "q/pipe fifo 644",
                    "q/z");
            // a copy onto the host makes no FIFO there (as a copy in makes none): one line, nothing left
            java.util.concurrent.CompletableFuture<Void> copy = java.util.concurrent.CompletableFuture.runAsync(() -> {
                try {
                    c.files().copyOut("/tmp/q", host.resolve("q"));
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
            assertThatThrownBy(() -> copy.get(60, java.util.concurrent.TimeUnit.SECONDS))
                    .hasRootCauseMessage("host: q/pipe: FIFOs are not copied");
            assertThat(listing(host)).isEmpty();
        }
    }

    /**
     * Without subordinate ids the container has no other users: the JVM reads its files itself (no reader), and a
     * file it may not read (a host file of root's bound in) fails in the one line naming this process's uid.
     */
    @Test
    void withTheSingleIdTheJvmReadsItselfAndAFileItMayNotReadFailsInOneLine() throws Exception {
        Preconditions.requireUnprivileged();
        Path none = Files.createDirectories(tmp.resolve("no-subids-" + run));
        Files.writeString(none.resolve("subuid"), "");
        Files.writeString(none.resolve("subgid"), "");
        Path host = Files.createDirectories(tmp.resolve("single-" + run));
        try (ContainerRuntime single = ContainerRuntime.builder().stateRoot(none.resolve("state"))
                .storageRoot(tmp.resolve("storage")).subordinateIds(none.resolve("subuid"), none.resolve("subgid"))
                .reconcile(false).build();
                Container c = single.start(run + "-single", probe("mkdir", "/tmp/r", "--", "write", "/tmp/r/a", "A",
                        "--", "install", "/tmp/r/a", "/tmp/r/b", "600", "--", "echo", "ready", "--", "sleep", "60")
                        .rootfs(null).image(IMAGE).entrypoint(List.of())
                        .mount(Mount.bind(Path.of("/etc/shadow"), "/srv/shadow", "ro")).build())) {
            awaitReady(c);
            c.files().copyOut("/tmp/r", host.resolve("r"));
            assertThat(host.resolve("r/b")).hasContent("A");
            assertThatThrownBy(() -> c.files().copyOut("/srv", host.resolve("srv")))
                    .isInstanceOf(AccessDeniedException.class)
                    .hasMessageStartingWith("container " + c.id() + ": /srv/shadow: it cannot be read: Permission denied")
                    .hasMessageContaining("this process reads as uid " + uid);
            assertThat(listing(host)).containsExactly("r");
            c.kill();
        }
    }

    /** A file no id of the user's namespace owns cannot be read by its root either: one line, nothing written. */
    @Test
    void aFileOfNoMappedOwnerFailsInOneLineWithNothingWritten() throws Exception {
        Preconditions.requireUnprivileged();
        Path host = Files.createDirectories(tmp.resolve("nomap-" + run));
        // /proc/1/environ in the container: its init's, which is not dumpable, and unreadable to all but the owner;
        // a bind of a host file of root's stands for it where the kernel hides it otherwise
        Path rootOnly = Path.of("/etc/shadow");
        try (Container c = runtime.start(run + "-nomap", probe("echo", "ready", "--", "sleep", "60").rootfs(null)
                .image(IMAGE).entrypoint(List.of()).mount(Mount.bind(rootOnly, "/srv/shadow", "ro"))
                .build())) {
            awaitReady(c);
            assertThatThrownBy(() -> c.files().copyOut("/srv", host.resolve("srv")))
                    .isInstanceOf(AccessDeniedException.class)
                    .hasMessage("container " + c.id() + ": /srv/shadow: it cannot be read: Permission denied (mode "
                            + String.format("%04o", (Integer) Files.getAttribute(rootOnly, "unix:mode") & 07777)
                            + ", owner uid 0 on the host; read as the root of the user's namespace, which may read only"
                            + " files of the user and its subordinate ids: its owner is neither; see docs/rootless.md)");
            assertThat(listing(host)).isEmpty();
            c.kill();
        }
    }

    /** The container's root's files are the user's: a whole tree of them is copied, modes kept. */
    @Test
    void theContainerRootsFilesAreCopiedWhole() throws Exception {
        Preconditions.requireUnprivileged();
        Path host = Files.createDirectories(tmp.resolve("root-" + run));
        try (Container c = runtime.start(run + "-root", probe("mkdir", "/tmp/r", "--", "write", "/tmp/r/a", "A", "--",
                "install", "/tmp/r/a", "/tmp/r/b", "600", "--", "echo", "ready", "--", "sleep", "60").rootfs(null)
                .image(IMAGE).entrypoint(List.of()).build())) {
            awaitReady(c);
            c.files().copyOut("/tmp/r", host.resolve("r"));
            assertThat(listing(host.resolve("r"))).containsExactly("a", "b");
            assertThat(host.resolve("r/b")).hasContent("A");
            assertThat(Files.getPosixFilePermissions(host.resolve("r/b"))).hasSize(2); // rw-------
            c.kill();
        }
    }
}
