package dev.berth.core.internal;

import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;

/**
 * Directories only their owner (root) may enter: container state and writable layers hold
 * setuid binaries and device nodes an image shipped, which no other local user may reach
 * (the CVE-2021-41091 class).
 */
public final class PrivateDirectories {
    private static final Set<PosixFilePermission> PRIVATE = PosixFilePermissions.fromString("rwx------");

    private PrivateDirectories() {}

    /**
     * Creates {@code dir} (and missing parents, with default modes) as 0700. An existing
     * {@code dir} is tightened to 0700 only with {@code tightenExisting}: for directories that are
     * Berth's own by name (never a root the caller chose, which may be /tmp).
     */
    public static void create(Path dir, boolean tightenExisting) throws IOException {
        if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
            Path parent = dir.getParent();
            if (parent != null) {
                Files.createDirectories(parent);
            }
            try {
                Files.createDirectory(dir, PosixFilePermissions.asFileAttribute(PRIVATE));
                Files.setPosixFilePermissions(dir, PRIVATE); // the umask may have taken bits off
                return;
            } catch (FileAlreadyExistsException e) {
                if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
                    throw e;
                }
            }
        }
        if (!tightenExisting) {
            return;
        }
        Set<PosixFilePermission> have = Files.getPosixFilePermissions(dir, LinkOption.NOFOLLOW_LINKS);
        if (!PRIVATE.containsAll(have)) {
            Files.setPosixFilePermissions(dir, PRIVATE);
        }
    }
}
