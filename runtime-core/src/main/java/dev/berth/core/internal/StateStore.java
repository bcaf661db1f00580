package dev.berth.core.internal;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.berth.core.ExitStatus;
import dev.berth.core.internal.etc.EtcFiles;
import dev.berth.core.internal.plan.ExecProfile;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.Optional;
import java.util.Set;

/**
 * {@code <stateRoot>/<id>/state.json}. Creating {@code <stateRoot>/<id>} claims the id: mkdir is
 * atomic, so of two starts with one id (in this JVM or another) exactly one proceeds. The file is
 * written atomically (temp file + rename) on each transition and removed with the container. The
 * pid is recorded with its start time, so a later reader can tell the process from a successor
 * that reused its pid. The root and every entry are private to root: the state names host pids and
 * paths of containers' writable layers.
 */
public final class StateStore {
    static final Set<PosixFilePermission> PRIVATE = PosixFilePermissions.fromString("rwx------");
    private static final ObjectMapper JSON = new ObjectMapper();
    static final String EXEC_PROFILE = "exec.json";

    private final Path root;

    /** What state.json holds. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record State(String id, String status, long pid, long pidStartTime, long monitorPid, String root,
            String created, Integer exitCode, Integer signal, Boolean oomKilled, String finished) {}

    public StateStore(Path root) {
        this.root = root;
    }

    public Path root() {
        return root;
    }

    /**
     * Claims {@code id}.
     *
     * @return false when it is taken
     */
    public boolean claim(String id) {
        try {
            PrivateDirectories.create(root, false); // each id's own directory below is 0700 in any case
            Files.createDirectory(root.resolve(id), PosixFilePermissions.asFileAttribute(PRIVATE));
            return true;
        } catch (FileAlreadyExistsException e) {
            return false;
        } catch (IOException e) {
            throw new UncheckedIOException("state directory " + root.resolve(id) + ": " + e.getMessage(), e);
        }
    }

    public void running(String id, long pid, long monitorPid, String containerRoot) {
        write(id, new State(id, "running", pid, startTime(pid), monitorPid, containerRoot, Instant.now().toString(),
                null, null, null, null));
    }

    public void exited(String id, ExitStatus status) {
        State s = read(id);
        write(id, new State(id, "exited", s.pid(), s.pidStartTime(), s.monitorPid(), s.root(), s.created(),
                status.exited() ? status.exitCode() : null, status.exited() ? null : status.signal(),
                status.oomKilled() ? Boolean.TRUE : null, Instant.now().toString()));
    }

    public State read(String id) {
        Path f = root.resolve(id).resolve("state.json");
        try {
            return JSON.readValue(f.toFile(), State.class);
        } catch (IOException e) {
            throw new UncheckedIOException("reading " + f + ": " + e.getMessage(), e);
        }
    }

    private void write(String id, State state) {
        Path dir = root.resolve(id);
        Path tmp = dir.resolve("state.json.tmp");
        try {
            Files.write(tmp, JSON.writeValueAsBytes(state));
            try {
                Files.move(tmp, dir.resolve("state.json"), StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, dir.resolve("state.json"), StandardCopyOption.REPLACE_EXISTING);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("writing " + dir.resolve("state.json") + ": " + e.getMessage(), e);
        }
    }

    /** Keeps what an exec into the container needs ({@code exec.json}), for this runtime and any other on the root. */
    public void writeExecProfile(String id, ExecProfile profile) {
        Path dir = root.resolve(id);
        Path tmp = dir.resolve(EXEC_PROFILE + ".tmp");
        try {
            Files.write(tmp, JSON.writeValueAsBytes(profile));
            Files.move(tmp, dir.resolve(EXEC_PROFILE), StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new UncheckedIOException("writing " + dir.resolve(EXEC_PROFILE) + ": " + e.getMessage(), e);
        }
    }

    /** The container's exec profile; empty when its runtime kept none. */
    public Optional<ExecProfile> readExecProfile(String id) {
        Path f = root.resolve(id).resolve(EXEC_PROFILE);
        if (!Files.isRegularFile(f)) {
            return Optional.empty();
        }
        try {
            return Optional.of(JSON.readValue(f.toFile(), ExecProfile.class));
        } catch (IOException e) {
            throw new UncheckedIOException("reading " + f + ": " + e.getMessage(), e);
        }
    }

    /** Removes the state, and the files generated for the container (its /etc files), and releases the id. */
    public void remove(String id) {
        Path dir = root.resolve(id);
        try {
            Files.deleteIfExists(dir.resolve("state.json.tmp"));
            Files.deleteIfExists(dir.resolve("state.json"));
            Files.deleteIfExists(dir.resolve(EXEC_PROFILE + ".tmp"));
            Files.deleteIfExists(dir.resolve(EXEC_PROFILE));
            for (String generated : EtcFiles.NAMES) {
                Files.deleteIfExists(dir.resolve(generated));
            }
            Files.deleteIfExists(dir);
        } catch (IOException e) {
            throw new UncheckedIOException("removing " + dir + ": " + e.getMessage(), e);
        }
    }

    /** Field 22 of /proc/PID/stat (clock ticks since boot), or -1. */
    public static long startTime(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            return Long.parseLong(f[19]);
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }
}
