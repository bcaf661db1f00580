package dev.berth.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.linux.internal.ProcStatus;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The default roots: root's, and an ordinary user's (XDG, then the documented fallbacks, checked). */
class DefaultRootsTest {
    @TempDir
    Path tmp;

    private long me() {
        return ProcStatus.effectiveUid();
    }

    @Test
    void rootKeepsTheSystemRoots() {
        DefaultRoots d = DefaultRoots.of(0, Map.of("XDG_DATA_HOME", "/x", "XDG_RUNTIME_DIR", "/y"), tmp);
        assertThat(d.rootless()).isFalse();
        assertThat(d.storageRoot()).isEqualTo(Path.of("/var/lib/berth"));
        assertThat(d.stateRoot()).isEqualTo(Path.of("/run/berth"));
    }

    @Test
    void anOrdinaryUserGetsTheXdgDirectories() {
        DefaultRoots d = DefaultRoots.of(1000, Map.of("XDG_DATA_HOME", "/home/u/.data", "XDG_RUNTIME_DIR",
                tmp.toString(), "HOME", "/home/u"), tmp);
        assertThat(d.rootless()).isTrue();
        assertThat(d.storageRoot()).isEqualTo(Path.of("/home/u/.data/berth"));
        assertThat(d.stateRoot()).isEqualTo(tmp.resolve("berth"));
    }

    @Test
    void withoutXdgTheHomeAndAPrivateDirectoryInTmp() throws Exception {
        long uid = me();
        DefaultRoots d = DefaultRoots.of(uid == 0 ? 4242 : uid, Map.of("HOME", "/home/u"), tmp);
        assertThat(d.storageRoot()).isEqualTo(Path.of("/home/u/.local/share/berth"));
        if (uid == 0) {
            return; // the fallback's checks need the owner to be this process's uid
        }
        Path state = d.stateRoot();
        assertThat(state).isEqualTo(tmp.resolve("berth-run-" + uid));
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(state))).isEqualTo("rwx------");
        assertThat(d.stateRoot()).as("again: the same, checked").isEqualTo(state);
    }

    @Test
    void anUnsafeFallbackIsRefusedNamingItAndTheFix() throws Exception {
        long uid = me();
        Path dir = tmp.resolve("berth-run-" + uid);
        Files.createDirectory(dir);
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxrwxrwx"));
        assertThatThrownBy(() -> DefaultRoots.checkPrivate(dir, uid)).hasMessage("rootless state root " + dir
                + ": mode rwxrwxrwx is writable by its group or others; chmod 700 it");
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx------"));
        assertThatThrownBy(() -> DefaultRoots.checkPrivate(dir, uid + 1)).hasMessage("rootless state root " + dir
                + ": owned by uid " + uid + ", not by uid " + (uid + 1) + "; remove it (or set XDG_RUNTIME_DIR)");
        Path link = tmp.resolve("link");
        Files.createSymbolicLink(link, dir);
        assertThatThrownBy(() -> DefaultRoots.checkPrivate(link, uid)).hasMessage("rootless state root " + link
                + ": is a symlink; remove it (or set XDG_RUNTIME_DIR)");
        Path file = Files.createFile(tmp.resolve("file"));
        assertThatThrownBy(() -> DefaultRoots.checkPrivate(file, uid)).hasMessageContaining(": not a directory");
        DefaultRoots.checkPrivate(dir, uid);
    }

    @Test
    void aRelativeXdgDataHomeIsAClearError() {
        assertThatThrownBy(() -> DefaultRoots.of(1000, Map.of("XDG_DATA_HOME", "rel", "HOME", "/home/u"), tmp)
                .storageRoot()).isInstanceOf(IllegalStateException.class)
                .hasMessageStartingWith("rootless: XDG_DATA_HOME=rel is not an absolute path")
                .hasMessageEndingWith("(or give ContainerRuntime.Builder.storageRoot)");
    }
}
