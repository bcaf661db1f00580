package dev.berth.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.core.testing.ContainerTestSupport;
import dev.berth.core.testing.RootlessIds;
import dev.berth.image.ImportProgress;
import dev.berth.testing.Preconditions;
import java.io.BufferedReader;
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
import org.junit.jupiter.api.Test;

/**
 * Files out of a rootless container (.ci/rootless-suite.sh runs this as an unprivileged user; never as root):
 * what the user may read is copied, and a file of the container's other users that the user may not read (a
 * subordinate uid's, mode 0600) fails the copy in one line naming it, before anything is written on the host:
 * never a copy with the file silently missing.
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

    /** A container in which alice (uid 1000) made /tmp/alice with pub (0644) and secret (0600), still running. */
    private Container withAlicesFiles(String id) throws Exception {
        Container c = runtime.start(id, probe("mkdir", "/tmp/alice", "--", "write", "/tmp/alice/pub", "public", "--",
                "install", "/tmp/alice/pub", "/tmp/alice/secret", "600", "--", "mkdir", "/tmp/alice/private", "--",
                "write", "/tmp/alice/private/f", "alice's", "--", "chmod", "/tmp/alice/private", "700", "--",
                "mkdir", "/tmp/mixed", "--", "write", "/tmp/mixed/a-pub", "x", "--", "install", "/tmp/mixed/a-pub",
                "/tmp/mixed/b-secret", "600", "--",
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

    private static void unreadableSecretIsRefused(Container c, Path host) throws Exception {
        assertThatThrownBy(() -> c.files().copyOut("/tmp/alice/secret", host.resolve("secret")))
                .isInstanceOf(AccessDeniedException.class)
                .hasMessage("container " + c.id() + ": /tmp/alice/secret: it cannot be read: Permission denied (mode 0600,"
                        + " owner uid " + aliceOnHost + " on the host; this process reads as uid " + uid + ", which may"
                        + " not: files of the container's other users are not readable to a rootless runtime; see"
                        + " docs/rootless.md)");
        // the directory holding them: refused whole at its first such entry (private, then secret, in name order),
        // nothing of it (not even pub, which the copy would have made before secret) on the host
        assertThatThrownBy(() -> c.files().copyOut("/tmp/alice", host.resolve("dir")))
                .isInstanceOf(AccessDeniedException.class)
                .hasMessageContaining("/tmp/alice/private: its entries cannot be listed")
                .satisfies(e -> assertThat(e.getMessage()).doesNotContain("\n"));
        assertThatThrownBy(() -> c.files().copyOut("/tmp/mixed", host.resolve("mixed")))
                .isInstanceOf(AccessDeniedException.class)
                .hasMessageStartingWith("container " + c.id() + ": /tmp/mixed/b-secret: it cannot be read");
        Path existing = Files.createDirectories(host.resolve("existing"));
        assertThatThrownBy(() -> c.files().copyOut("/tmp/alice", existing)).isInstanceOf(AccessDeniedException.class);
        assertThatThrownBy(() -> c.files().copyOut("/tmp/alice/.", existing)).isInstanceOf(AccessDeniedException.class);
        assertThatThrownBy(() -> c.files().copyOut("/tmp/mixed/.", existing)).isInstanceOf(AccessDeniedException.class);
        assertThatThrownBy(() -> c.files().copyFrom("/tmp/alice")).as("the tar stream fails at once, not halfway")
                .isInstanceOf(AccessDeniedException.class).hasMessageContaining("/tmp/alice/private");
        // a directory the user may not search or list (alice's, 0700)
        assertThatThrownBy(() -> c.files().copyOut("/tmp/alice/private/f", host.resolve("f")))
                .isInstanceOf(AccessDeniedException.class)
                .hasMessageStartingWith("container " + c.id() + ": /tmp/alice/private/f: its directory cannot be"
                        + " searched: Permission denied (mode 0700, owner uid " + aliceOnHost + " on the host;");
        assertThatThrownBy(() -> c.files().copyOut("/tmp/alice/private", host.resolve("private")))
                .isInstanceOf(AccessDeniedException.class)
                .hasMessageStartingWith("container " + c.id() + ": /tmp/alice/private: its entries cannot be listed:"
                        + " Permission denied (mode 0700");
        assertThat(listing(host)).containsExactlyInAnyOrder("existing", "pub");
        assertThat(listing(existing)).isEmpty();
    }

    @Test
    void aReadableFileOfAnotherUserIsCopiedAndAnUnreadableOneFailsNamingItWithNothingWritten() throws Exception {
        Preconditions.requireUnprivileged();
        Path host = Files.createDirectories(tmp.resolve("out-" + run));
        try (Container c = withAlicesFiles(run + "-running")) {
            c.files().copyOut("/tmp/alice/pub", host.resolve("pub"));
            assertThat(host.resolve("pub")).hasContent("public");
            assertThat(Files.getAttribute(host.resolve("pub"), "unix:uid", LinkOption.NOFOLLOW_LINKS)).isEqualTo((int) uid);
            unreadableSecretIsRefused(c, host);
            // ended: the root held in a user namespace of the user's, the same answers
            c.kill();
            c.waitFor();
            Path ended = Files.createDirectories(tmp.resolve("ended-" + run));
            c.files().copyOut("/tmp/alice/pub", ended.resolve("pub"));
            assertThat(ended.resolve("pub")).hasContent("public");
            unreadableSecretIsRefused(c, ended);
        }
        assertThat(Files.readString(Path.of("/proc/self/mountinfo"))).doesNotContain(run);
        assertThat(tmp.resolve("storage/containers/" + run + "-running")).doesNotExist();
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
