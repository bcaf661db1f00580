package dev.berth.core;

import dev.berth.image.ImageException;
import dev.berth.image.ImageStore;
import dev.berth.linux.internal.ProcStatus;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;
import java.util.Set;

/**
 * The storage and state roots a runtime uses when none is given, as rootless podman chooses them: for root,
 * {@code /var/lib/berth} and {@code /run/berth}; for an ordinary user (the JVM's effective uid is not 0),
 * {@code $XDG_DATA_HOME/berth} (else {@code $HOME/.local/share/berth}) and {@code $XDG_RUNTIME_DIR/berth}
 * (else {@code /tmp/berth-run-<uid>}, made 0700 and refused when it is a symlink, not the user's, or
 * writable by its group or others: another user could otherwise plant a container's state there).
 */
public final class DefaultRoots {
    /** The rootful defaults. */
    public static final Path ROOT_STORAGE = Path.of("/var/lib/berth");
    public static final Path ROOT_STATE = Path.of("/run/berth");

    private final long euid;
    private final Map<String, String> env;
    private final Path tmp;

    private DefaultRoots(long euid, Map<String, String> env, Path tmp) {
        this.euid = euid;
        this.env = env;
        this.tmp = tmp;
    }

    /** This process's defaults: its effective uid and environment. */
    public static DefaultRoots current() {
        return new DefaultRoots(ProcStatus.effectiveUid(), System.getenv(), Path.of("/tmp"));
    }

    /** For tests: the defaults of a process with this euid and environment, whose fallback state dir is under tmp. */
    static DefaultRoots of(long euid, Map<String, String> env, Path tmp) {
        return new DefaultRoots(euid, Map.copyOf(env), tmp);
    }

    /** Whether the runtime runs rootless: the effective uid is not 0. */
    public boolean rootless() {
        return euid != 0;
    }

    /** The effective uid these defaults are for. */
    public long uid() {
        return euid;
    }

    /** Where images, layers and writable layers go. */
    public Path storageRoot() {
        if (!rootless()) {
            return ROOT_STORAGE;
        }
        try {
            return ImageStore.defaultRoot(false, env); // one rule for the runtime, the image store and the CLI
        } catch (ImageException e) {
            throw new IllegalStateException(e.getMessage() + " (or give ContainerRuntime.Builder.storageRoot)", e);
        }
    }

    /**
     * Where container state goes. The fallback {@code /tmp/berth-run-<uid>} is made (0700) when missing and
     * checked when present.
     *
     * @throws IllegalStateException when the fallback directory is unsafe (a symlink, another owner, group- or
     *                               world-writable) or cannot be made
     */
    public Path stateRoot() {
        if (!rootless()) {
            return ROOT_STATE;
        }
        String run = env.get("XDG_RUNTIME_DIR");
        if (run != null && run.startsWith("/") && Files.isDirectory(Path.of(run))) {
            return Path.of(run, "berth");
        }
        Path dir = tmp.resolve("berth-run-" + euid);
        try {
            Files.createDirectory(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        } catch (FileAlreadyExistsException e) {
            // checked below
        } catch (IOException e) {
            throw new UncheckedIOException("rootless state root " + dir + ": " + e.getMessage(), e);
        }
        checkPrivate(dir, euid);
        return dir;
    }

    /** Refuses a directory that another user could have made or could write into. */
    static void checkPrivate(Path dir, long uid) {
        try {
            if (Files.isSymbolicLink(dir)) {
                throw new IllegalStateException("rootless state root " + dir + ": is a symlink; remove it (or set"
                        + " XDG_RUNTIME_DIR)");
            }
            Map<String, Object> a = Files.readAttributes(dir, "unix:uid,mode", LinkOption.NOFOLLOW_LINKS);
            int mode = (Integer) a.get("mode");
            if ((mode & 0170000) != 0040000) {
                throw new IllegalStateException("rootless state root " + dir + ": not a directory; remove it (or set"
                        + " XDG_RUNTIME_DIR)");
            }
            long owner = Integer.toUnsignedLong((Integer) a.get("uid"));
            if (owner != uid) {
                throw new IllegalStateException("rootless state root " + dir + ": owned by uid " + owner + ", not by"
                        + " uid " + uid + "; remove it (or set XDG_RUNTIME_DIR)");
            }
            if ((mode & 0022) != 0) {
                Set<PosixFilePermission> p = Files.getPosixFilePermissions(dir, LinkOption.NOFOLLOW_LINKS);
                throw new IllegalStateException("rootless state root " + dir + ": mode "
                        + PosixFilePermissions.toString(p) + " is writable by its group or others; chmod 700 it");
            }
        } catch (IOException e) {
            throw new UncheckedIOException("rootless state root " + dir + ": " + e.getMessage(), e);
        }
    }
}
