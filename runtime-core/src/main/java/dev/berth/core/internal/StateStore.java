package dev.berth.core.internal;

import dev.berth.core.internal.state.EventJournal;
import dev.berth.core.internal.state.IdLock;
import dev.berth.core.internal.state.StateDocument;
import dev.berth.core.internal.state.StateJson;
import dev.berth.core.internal.sys.Syscalls;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.berth.core.internal.plan.ExecProfile;
import dev.berth.linux.internal.ProcStatus;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.SeekableByteChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The state root: {@code <stateRoot>/<id>/state.json} per container, and
 * {@code <stateRoot>/.<id>.lock}, the lock its owner holds ({@link IdLock}). The lock files live
 * beside the directories (not in a directory of their own) so that a root whose containers are
 * all closed is empty again. An id is claimed by
 * taking its lock, then making its directory (atomic mkdir); it is released by removing the
 * directory, then the lock file, then dropping the lock. So whoever holds the lock is the only one
 * who may create, change or remove the id's directory, and a directory whose lock is free was left
 * by a runtime that died.
 *
 * <p>The state file is written atomically (a new file, then rename over the old one), so a reader
 * sees the whole of one version or the whole of the next, whatever kills the writer. There is no
 * fsync: a process killed with {@code kill -9} loses nothing the page cache holds, and the default
 * root, {@code /run/berth}, is a tmpfs that a reboot empties anyway (with the processes the state
 * names).
 *
 * <p>Everything is private to root (directories 0700, files 0600): the state names host pids and
 * paths, and holds the spec's environment. Entries not owned by this process's user are never read,
 * listed or removed: nobody else can write here when the root is private, and a root that is not
 * (a shared {@code /tmp} directory given as state root) must not let another user steer a cleanup.
 */
public final class StateStore {
    static final Set<PosixFilePermission> PRIVATE = PosixFilePermissions.fromString("rwx------");
    private static final Set<PosixFilePermission> PRIVATE_FILE = PosixFilePermissions.fromString("rw-------");
    /** Container ids; never starts with '.', so a lock file's name cannot be one. */
    public static final Pattern ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.-]{0,127}");
    private static final Pattern LOCK = Pattern.compile("\\.(" + ID.pattern() + ")\\.lock");
    static final String STATE = "state.json";
    private static final ObjectMapper JSON = new ObjectMapper();
    static final String EXEC_PROFILE = "exec.json";
    /** Written by a monitor given the state dir (berth-init.c, MONITOR): the target's wait status. */
    static final String EXIT = "exit";

    private final Path root;
    private final Syscalls sys;

    public StateStore(Path root, Syscalls sys) {
        this.root = root;
        this.sys = sys;
    }

    public Path root() {
        return root;
    }

    /** What {@link #claim} found. */
    public enum ClaimResult { CLAIMED, TAKEN, ORPHANED }

    /** An id's lock with what was found under it. */
    public record Claim(ClaimResult result, IdLock lock) {}

    /**
     * Claims {@code id}: its lock, then its directory.
     *
     * @return TAKEN when a live runtime holds it (or it is being claimed or reconciled: retried for a
     *     moment first); ORPHANED, with the lock held, when a dead runtime left its directory (the
     *     caller cleans it up, then calls {@link #claimOrphaned}); CLAIMED with the lock held
     */
    public Claim claim(String id) {
        IdLock lock = null;
        try {
            PrivateDirectories.create(root, false); // each id's own directory below is 0700 in any case
            for (int i = 0; i < 50 && lock == null; i++) {
                lock = IdLock.tryAcquire(sys, lockFile(id));
                if (lock == null) {
                    if (Files.exists(root.resolve(id), LinkOption.NOFOLLOW_LINKS)) {
                        return new Claim(ClaimResult.TAKEN, null);
                    }
                    sleep(); // held by someone who lists, reconciles or claims it right now
                }
            }
            if (lock == null) {
                return new Claim(ClaimResult.TAKEN, null);
            }
            Files.createDirectory(root.resolve(id), PosixFilePermissions.asFileAttribute(PRIVATE));
            return new Claim(ClaimResult.CLAIMED, lock);
        } catch (FileAlreadyExistsException e) {
            return new Claim(ClaimResult.ORPHANED, lock);
        } catch (IOException | RuntimeException e) {
            if (lock != null) {
                lock.close();
            }
            if (e instanceof RuntimeException re) {
                throw re;
            }
            throw new UncheckedIOException("state directory " + root.resolve(id) + ": " + e.getMessage(), (IOException) e);
        }
    }

    /** After an orphan's leftovers were removed under {@code lock}: its directory, made anew. */
    public void claimOrphaned(String id) {
        try {
            Files.createDirectory(root.resolve(id), PosixFilePermissions.asFileAttribute(PRIVATE));
        } catch (IOException e) {
            throw new UncheckedIOException("state directory " + root.resolve(id) + ": " + e.getMessage(), e);
        }
    }

    /** The lock of {@code id} if nobody holds it (the caller closes or releases it), else null. */
    public IdLock tryLock(String id) {
        return IdLock.tryAcquire(sys, lockFile(id));
    }

    Path lockFile(String id) {
        return root.resolve("." + id + ".lock");
    }

    /**
     * The ids with a state directory or a lock file here (a lock file alone: a runtime died between
     * taking a lock and making the directory, or between removing it and the lock file), owned by
     * this process's user; anything else under the root is ignored.
     */
    public List<String> ids() {
        java.util.TreeSet<String> ids = new java.util.TreeSet<>();
        if (!ownedByUs(root)) {
            return List.of();
        }
        try (DirectoryStream<Path> s = Files.newDirectoryStream(root)) {
            for (Path p : s) {
                String name = p.getFileName().toString();
                java.util.regex.Matcher lock = LOCK.matcher(name);
                if ((ID.matcher(name).matches() || lock.matches()) && ownedByUs(p)) {
                    ids.add(lock.matches() ? lock.group(1) : name);
                }
            }
        } catch (NoSuchFileException e) {
            // nothing here yet
        } catch (IOException e) {
            throw new UncheckedIOException("listing " + root + ": " + e.getMessage(), e);
        }
        return new ArrayList<>(ids);
    }

    /** Whether {@code id} has a state directory that is this process's user's own (a real directory, not a link). */
    public boolean hasDirectory(String id) {
        Path dir = root.resolve(id);
        return Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS) && ownedByUs(dir);
    }

    /** Writes the state atomically (a private new file renamed over the old); the id's lock holder only. */
    public void write(StateDocument state) {
        Path dir = root.resolve(state.id());
        try {
            writePrivately(dir, STATE, StateJson.write(state));
        } catch (IOException e) {
            throw new UncheckedIOException("writing " + dir.resolve(STATE) + ": " + e.getMessage(), e);
        }
    }

    /** {@code dir/name} replaced atomically by a private (0600) new file holding {@code bytes}. */
    private static void writePrivately(Path dir, String name, byte[] bytes) throws IOException {
        Path tmp = dir.resolve(name + ".tmp");
        Files.deleteIfExists(tmp); // one a crash left behind: a new file gets the private mode
        try (SeekableByteChannel ch = Files.newByteChannel(tmp, Set.<java.nio.file.OpenOption>of(
                StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE, LinkOption.NOFOLLOW_LINKS),
                PosixFilePermissions.asFileAttribute(PRIVATE_FILE))) {
            ByteBuffer b = ByteBuffer.wrap(bytes);
            while (b.hasRemaining()) {
                ch.write(b);
            }
        }
        Files.move(tmp, dir.resolve(name), StandardCopyOption.ATOMIC_MOVE);
    }

    /**
     * The state of {@code id}: empty when it has none yet (or its directory is not this user's).
     *
     * @throws UncheckedIOException for a state file that cannot be read or is not a valid state
     */
    public Optional<StateDocument> read(String id) {
        Path f = root.resolve(id).resolve(STATE);
        if (!hasDirectory(id) || !Files.isRegularFile(f, LinkOption.NOFOLLOW_LINKS) || !ownedByUs(f)) {
            return Optional.empty();
        }
        try {
            StateDocument d = StateJson.read(Files.readAllBytes(f));
            if (!id.equals(d.id())) {
                throw new IOException("it names container \"" + d.id() + "\"");
            }
            return Optional.of(d);
        } catch (NoSuchFileException e) {
            return Optional.empty(); // removed meanwhile by its owner
        } catch (IOException e) {
            throw new UncheckedIOException("reading " + f + ": " + e.getMessage(), e);
        }
    }

    /** Keeps what an exec into the container needs ({@code exec.json}), for this runtime and any other on the root. */
    public void writeExecProfile(String id, ExecProfile profile) {
        Path dir = root.resolve(id);
        try {
            writePrivately(dir, EXEC_PROFILE, JSON.writeValueAsBytes(profile));
        } catch (IOException e) {
            throw new UncheckedIOException("writing " + dir.resolve(EXEC_PROFILE) + ": " + e.getMessage(), e);
        }
    }

    /**
     * The wait status the monitor of a container recorded in {@code exit} when its target ended (a
     * detached container's, or any with a captured log), and when; empty when there is none (yet).
     */
    public Optional<RecordedExit> readExit(String id) {
        Path f = root.resolve(id).resolve(EXIT);
        if (!hasDirectory(id) || !Files.isRegularFile(f, LinkOption.NOFOLLOW_LINKS) || !ownedByUs(f)) {
            return Optional.empty();
        }
        try {
            String text = Files.readString(f).trim();
            return Optional.of(new RecordedExit(Integer.parseInt(text),
                    Files.getLastModifiedTime(f, LinkOption.NOFOLLOW_LINKS).toInstant()));
        } catch (NoSuchFileException e) {
            return Optional.empty();
        } catch (IOException | NumberFormatException e) {
            throw new UncheckedIOException("reading " + f + ": " + e.getMessage(),
                    e instanceof IOException io ? io : new IOException(e));
        }
    }

    /** Marks an explicit stop of a detached container: written before its stop signal; never undone. */
    static final String STOPPED = "stopped";
    /** The supervisor lease of a detached container: flocked by whoever applies its restart policy. */
    static final String LEASE = "supervisor.lock";
    /** What its restart policy's supervisor keeps across runs ({@link RestartRecord}). */
    static final String RESTART = "restart.json";
    /** A restart of one run asked for by another process ({@link RestartRequest}). */
    static final String RESTART_REQUEST = "restart-request.json";

    /**
     * A restart of the run whose monitor is named here, requested by a process that does not
     * supervise it (an adopted handle's unhealthy action {@code restart}): its supervisor restarts
     * that run once it ended, whatever the restart policy, unless an explicit stop was recorded. It
     * names one run, so a later run is never restarted by it.
     */
    public record RestartRequest(long monitorPid, long monitorStartTime) {
        public boolean names(StateDocument.ProcessDoc monitor) {
            return monitor != null && monitor.pid() == monitorPid && monitor.startTime() == monitorStartTime;
        }
    }

    /** Records a restart request for the run whose monitor is {@code run}; the id's lock holder only. */
    public void requestRestart(String id, StateDocument.ProcessDoc run) {
        Path dir = root.resolve(id);
        try {
            writePrivately(dir, RESTART_REQUEST, JSON.writeValueAsBytes(new RestartRequest(run.pid(), run.startTime())));
        } catch (IOException e) {
            throw new UncheckedIOException("writing " + dir.resolve(RESTART_REQUEST) + ": " + e.getMessage(), e);
        }
    }

    /** Whether a restart of the run whose monitor is {@code run} was requested ({@link #requestRestart}). */
    public boolean restartRequested(String id, StateDocument.ProcessDoc run) {
        Path f = root.resolve(id).resolve(RESTART_REQUEST);
        if (run == null || !hasDirectory(id) || !Files.isRegularFile(f, LinkOption.NOFOLLOW_LINKS) || !ownedByUs(f)) {
            return false;
        }
        try {
            return JSON.readValue(Files.readAllBytes(f), RestartRequest.class).names(run);
        } catch (NoSuchFileException e) {
            return false;
        } catch (IOException e) {
            throw new UncheckedIOException("reading " + f + ": " + e.getMessage(), e);
        }
    }

    /**
     * Records an explicit stop ({@code stop}, {@code kill}, {@code remove}) of {@code id}, before its
     * signal: no restart (by any process) follows it. A file created once, never rewritten, so a
     * concurrent rewrite of the state cannot lose it. False when the container has no state directory.
     */
    public boolean markStopped(String id) {
        if (!hasDirectory(id)) {
            return false;
        }
        try {
            Files.newByteChannel(root.resolve(id).resolve(STOPPED), Set.<java.nio.file.OpenOption>of(
                    StandardOpenOption.CREATE, StandardOpenOption.WRITE, LinkOption.NOFOLLOW_LINKS),
                    PosixFilePermissions.asFileAttribute(PRIVATE_FILE)).close();
            return true;
        } catch (NoSuchFileException e) {
            return false; // removed meanwhile
        } catch (IOException e) {
            throw new UncheckedIOException("recording the stop of " + id + " (" + root.resolve(id).resolve(STOPPED)
                    + "): " + e.getMessage(), e);
        }
    }

    /** Whether an explicit stop of {@code id} was recorded ({@link #markStopped}). */
    public boolean stopped(String id) {
        return Files.exists(root.resolve(id).resolve(STOPPED), LinkOption.NOFOLLOW_LINKS);
    }

    /**
     * The supervisor lease of {@code id} if nobody holds it (close it to let go; never release it:
     * the file stays with the state directory), else null; null too when the container has no state
     * directory (any more).
     */
    public IdLock tryLease(String id) {
        return tryFileLock(id, LEASE);
    }

    /** The health lease of a container: flocked by the one process that runs its health checks. */
    static final String HEALTH_LEASE = "health.lock";

    /**
     * The health lease of {@code id} if nobody holds it (as {@link #tryLease}): its holder alone runs
     * the container's health checks and journals their results; the kernel drops it when its holder dies.
     */
    public IdLock tryHealthLease(String id) {
        return tryFileLock(id, HEALTH_LEASE);
    }

    /** The event journal of {@code id} ({@link EventJournal}: in its state directory, removed with it). */
    public EventJournal journal(String id) {
        return new EventJournal(sys, root.resolve(id));
    }

    private IdLock tryFileLock(String id, String file) {
        if (!hasDirectory(id)) {
            return null;
        }
        try {
            return IdLock.tryAcquire(sys, root.resolve(id).resolve(file));
        } catch (dev.berth.core.internal.sys.SyscallException e) {
            if (e.errno() == dev.berth.core.internal.sys.Syscalls.ENOENT) {
                return null; // removed meanwhile
            }
            throw e;
        }
    }

    /**
     * What the supervisor of a detached container's restart policy keeps across its runs.
     *
     * @param handledMonitorPid       the monitor of the last run whose exit was handled (0: none)
     * @param handledMonitorStartTime that monitor's start time (with the pid: one run)
     * @param streak                  the backoff's restarts in a row after short runs ({@code RestartBackoff})
     */
    public record RestartRecord(long handledMonitorPid, long handledMonitorStartTime, int streak) {
        public static final RestartRecord NONE = new RestartRecord(0, 0, 0);

        /** Whether the run whose monitor is {@code monitor} was handled already. */
        public boolean handled(StateDocument.ProcessDoc monitor) {
            return monitor != null && monitor.pid() == handledMonitorPid && monitor.startTime() == handledMonitorStartTime;
        }

        public RestartRecord handledRun(StateDocument.ProcessDoc monitor, int streakNow) {
            return new RestartRecord(monitor == null ? 0 : monitor.pid(), monitor == null ? 0 : monitor.startTime(),
                    streakNow);
        }
    }

    /** The restart record of {@code id} ({@link RestartRecord#NONE} before any). */
    public RestartRecord readRestart(String id) {
        Path f = root.resolve(id).resolve(RESTART);
        if (!hasDirectory(id) || !Files.isRegularFile(f, LinkOption.NOFOLLOW_LINKS) || !ownedByUs(f)) {
            return RestartRecord.NONE;
        }
        try {
            return JSON.readValue(Files.readAllBytes(f), RestartRecord.class);
        } catch (NoSuchFileException e) {
            return RestartRecord.NONE;
        } catch (IOException e) {
            throw new UncheckedIOException("reading " + f + ": " + e.getMessage(), e);
        }
    }

    /** Writes the restart record of {@code id} atomically; the lease holder only. */
    public void writeRestart(String id, RestartRecord r) {
        Path dir = root.resolve(id);
        try {
            writePrivately(dir, RESTART, JSON.writeValueAsBytes(r));
        } catch (IOException e) {
            throw new UncheckedIOException("writing " + dir.resolve(RESTART) + ": " + e.getMessage(), e);
        }
    }

    /** A wait status the monitor wrote ({@code waitpid}'s raw value) and when. */
    public record RecordedExit(int waitStatus, java.time.Instant at) {}

    /** The container's exec profile; empty when its runtime kept none (or the file is not this user's). */
    public Optional<ExecProfile> readExecProfile(String id) {
        Path f = root.resolve(id).resolve(EXEC_PROFILE);
        if (!hasDirectory(id) || !Files.isRegularFile(f, LinkOption.NOFOLLOW_LINKS) || !ownedByUs(f)) {
            return Optional.empty();
        }
        try {
            return Optional.of(JSON.readValue(f.toFile(), ExecProfile.class));
        } catch (NoSuchFileException e) {
            return Optional.empty();
        } catch (IOException e) {
            throw new UncheckedIOException("reading " + f + ": " + e.getMessage(), e);
        }
    }

    /**
     * Removes the state directory of {@code id} with the files in it (the state, the generated /etc
     * files); the id's lock holder only, who then releases the lock. Nothing that is not a plain file
     * is followed or removed: a directory holding one fails here, before the directory goes.
     */
    public void remove(String id) {
        Path dir = root.resolve(id);
        try {
            if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
                return;
            }
            try (DirectoryStream<Path> s = Files.newDirectoryStream(dir)) {
                for (Path p : s) {
                    if (Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS) || Files.isSymbolicLink(p)) {
                        Files.deleteIfExists(p);
                    }
                }
            }
            Files.deleteIfExists(dir);
        } catch (IOException e) {
            throw new UncheckedIOException("removing " + dir + ": " + e.getMessage(), e);
        }
    }

    /** Owned by this process's (effective) user: root's files for a runtime running as root. */
    private static boolean ownedByUs(Path p) {
        try {
            return ((Number) Files.getAttribute(p, "unix:uid", LinkOption.NOFOLLOW_LINKS)).longValue() == OWN_UID;
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    private static final long OWN_UID = ownUid();

    private static long ownUid() {
        try {
            return ProcStatus.effectiveUid();
        } catch (RuntimeException e) {
            return 0;
        }
    }

    private static void sleep() {
        try {
            Thread.sleep(20);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while claiming an id", e);
        }
    }
}
