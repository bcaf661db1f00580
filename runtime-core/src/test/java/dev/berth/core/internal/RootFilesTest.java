package dev.berth.core.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.core.internal.linux.LinuxSyscalls;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Real openat2 calls (no privileges needed): reads cannot leave the root, hang, or run away. */
class RootFilesTest {
    @TempDir
    Path tmp;
    Path root;
    Path sentinel;
    final RootFiles files = new RootFiles(new LinuxSyscalls());

    @BeforeEach
    void setUp() throws Exception {
        root = Files.createDirectories(tmp.resolve("root/etc"));
        root = tmp.resolve("root");
        sentinel = Files.writeString(tmp.resolve("host-passwd"), "host:x:0:0::/:/bin/sh\n");
    }

    @Test
    void readsARegularFile() throws Exception {
        Files.writeString(root.resolve("etc/passwd"), "alice:x:1:1::/:/bin/sh\n");
        assertThat(files.read(root, "/etc/passwd", 1024)).hasValue("alice:x:1:1::/:/bin/sh\n");
    }

    @Test
    void missingFileIsEmpty() {
        assertThat(files.read(root, "/etc/passwd", 1024)).isEmpty();
    }

    @Test
    void absoluteSymlinkResolvesInsideTheRoot() throws Exception {
        Files.createSymbolicLink(root.resolve("etc/passwd"), sentinel);   // /tmp/.../host-passwd, read in the root
        assertThat(files.read(root, "/etc/passwd", 1024)).isEmpty();
    }

    @Test
    void relativeSymlinkCannotClimbOut() throws Exception {
        Files.createSymbolicLink(root.resolve("etc/passwd"), Path.of("../../../../../../" + sentinel));
        assertThat(files.read(root, "/etc/passwd", 1024)).isEmpty();
    }

    @Test
    void symlinkedParentDirectoryStaysInside() throws Exception {
        Files.delete(root.resolve("etc"));
        Files.createSymbolicLink(root.resolve("etc"), tmp);                 // etc -> host dir with host-passwd
        Files.writeString(tmp.resolve("passwd"), "host!\n");
        assertThat(files.read(root, "/etc/passwd", 1024)).isEmpty();
    }

    @Test
    void fifoIsRefusedWithoutBlocking() throws Exception {
        Process p = new ProcessBuilder("mkfifo", root.resolve("etc/passwd").toString()).start();
        assertThat(p.waitFor()).isZero();
        assertThatThrownBy(() -> files.read(root, "/etc/passwd", 1024))
                .isInstanceOf(IllegalArgumentException.class).hasMessageEndingWith("etc/passwd: not a regular file");
    }

    @Test
    void directoryIsRefused() throws Exception {
        Files.createDirectory(root.resolve("etc/group"));
        assertThatThrownBy(() -> files.read(root, "/etc/group", 1024)).hasMessageContaining("not a regular file");
    }

    @Test
    void oversizedFileIsRefused() throws Exception {
        Files.write(root.resolve("etc/passwd"), new byte[5000]);
        assertThatThrownBy(() -> files.read(root, "/etc/passwd", 4096))
                .hasMessageContaining("etc/passwd: larger than 4096 bytes");
    }
}
