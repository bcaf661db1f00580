package dev.berth.core.internal.preflight;

import dev.berth.core.Preflight;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * What the preflight reads of the host, each behind one small method, so that unit tests can feed
 * the facts of another host (a pure cgroup v2 host with or without delegation, no subuid file, …).
 * {@link SystemHostFacts} reads the real system.
 */
public interface HostFacts {

    /** The text of a file (proc, sys, etc); empty when it does not exist or cannot be read. */
    Optional<String> read(Path file);

    boolean exists(Path path);

    /** Whether this process may write {@code path} (access(2) with W_OK). */
    boolean isWritable(Path path);

    /** The owner uid of a file or directory (not following a symbolic link); empty when it does not exist. */
    OptionalLong owner(Path path);

    /** The first executable file of that name in the directories of PATH. */
    Optional<Path> onPath(String name);

    /** The names in a directory; empty when it does not exist. */
    List<String> list(Path dir);

    /** The JVM's architecture ({@code os.arch}). */
    String arch();

    /** The JVM's version and vendor. */
    String java();

    /** The outcome of the idmapped-mount probe. */
    record Probe(Preflight.Status status, String found, String fix) {}

    /**
     * Tries an idmapped mount on the file system of {@code storageRoot} (its nearest existing
     * directory), with the user namespace of a short-lived process that {@code unshare} (a path,
     * from {@link #onPath}) holds.
     */
    Probe probeIdmap(Path storageRoot, Path unshare, boolean root);
}
