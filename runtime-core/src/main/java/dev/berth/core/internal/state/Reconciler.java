package dev.berth.core.internal.state;

import dev.berth.cgroups.Cgroup;
import dev.berth.cgroups.CgroupDriver;
import dev.berth.core.ContainerStatus;
import dev.berth.core.ExitStatus;
import dev.berth.core.internal.StateStore;
import dev.berth.core.internal.sys.WaitStatus;
import dev.berth.core.internal.sys.SyscallException;
import dev.berth.core.internal.sys.Syscalls;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Cleans up what a runtime that died left under a state root: for each id whose lock
 * ({@link IdLock}) can be taken, in this order, each step idempotent:
 *
 * <ol>
 *   <li>its monitor and init, if still there: each is signalled only through a pidfd, after the
 *       pidfd's process was checked to have the recorded start time and to run berth-init (so a
 *       reused pid, or a state naming someone else's process, is never signalled), and waited for;</li>
 *   <li>its cgroup (found by id below the driver's parent, never by a path from the file): whatever
 *       is left in it is killed, then it is removed;</li>
 *   <li>its writable layer {@code <storage>/containers/<id>} (removed, or kept aside by policy) and
 *       its pin on the image's layers; never while anything is mounted below it;</li>
 *   <li>its state directory, then its lock file.</li>
 * </ol>
 *
 * The state goes last: until then a crash (of this runtime too) leaves it to be found and the
 * steps run again. Nothing is half-removed without its state saying that something is left.
 */
public final class Reconciler {
    private static final Logger LOG = LoggerFactory.getLogger(Reconciler.class);

    /** What to do with a dead container's writable layer. */
    public enum LayerPolicy {
        /** Removed with the rest (the default): nothing of the container stays. */
        REMOVE,
        /** Moved to {@code <storage>/orphaned/<id>} for inspection; the rest is removed. */
        KEEP
    }

    /** The unpinning of an id's image layers (the image store's, opened only when needed). */
    @FunctionalInterface
    public interface Unpin {
        void unpin(String id) throws IOException;
    }

    /**
     * @param removed the ids cleaned up
     * @param failed  the ids that could not be (with why); their state stays for a later attempt
     */
    public record Outcome(List<String> removed, Map<String, String> failed) {}

    private final StateStore store;
    private final Syscalls sys;
    private final CgroupDriver cgroups;
    private final Path storageRoot;
    private final Unpin unpin;
    private final LayerPolicy layers;
    private final Duration timeout;
    private final NetworkRelease network;
    /** Removes a dead container's writable layer ({@link #deleteTree}; rootless, in a user namespace if need be). */
    private volatile java.util.function.Consumer<Path> layerRemover = Reconciler::deleteTree;

    /** A dead container's network (CNI DEL against its pinned namespace, then the pin): before its state goes. */
    @FunctionalInterface
    public interface NetworkRelease {
        void release(String id);
    }

    public Reconciler(StateStore store, Syscalls sys, CgroupDriver cgroups, Path storageRoot, Unpin unpin,
            LayerPolicy layers, Duration timeout) {
        this(store, sys, cgroups, storageRoot, unpin, layers, timeout, id -> {});
    }

    public Reconciler(StateStore store, Syscalls sys, CgroupDriver cgroups, Path storageRoot, Unpin unpin,
            LayerPolicy layers, Duration timeout, NetworkRelease network) {
        this.network = network;
        this.store = store;
        this.sys = sys;
        this.cgroups = cgroups;
        this.storageRoot = storageRoot;
        this.unpin = unpin;
        this.layers = layers;
        this.timeout = timeout;
    }

    /** How a dead container's writable layer is removed (a rootless runtime's removes what its user cannot). */
    public void layerRemover(java.util.function.Consumer<Path> remover) {
        this.layerRemover = java.util.Objects.requireNonNull(remover);
    }

    /** Every id of the state root that nobody owns, except {@code skip} (this runtime's own). */
    public Outcome reconcile(Set<String> skip) {
        List<String> removed = new ArrayList<>();
        Map<String, String> failed = new LinkedHashMap<>();
        for (String id : store.ids()) {
            if (skip.contains(id)) {
                continue;
            }
            IdLock lock = store.tryLock(id);
            if (lock == null) {
                continue; // a live runtime's (or another reconciler's, right now)
            }
            try {
                Optional<StateDocument> doc = readQuietly(id);
                if (doc.isPresent() && detached(doc.get())) {
                    // nobody holds a detached container's lock while it runs: it is never killed here
                    if (settle(id, doc.get()).removed()) {
                        lock.release();
                        removed.add(id);
                    }
                    continue;
                }
                boolean found = clean(id);
                lock.release();
                if (found) {
                    removed.add(id); // not a lock file alone: its owner may have just released the id (or another reconciler)
                }
            } catch (RuntimeException e) {
                failed.put(id, e.getMessage());
                LOG.warn("container {}: left by a runtime that died; cleaning it up failed, retried by the next"
                        + " reconcile: {}", id, e.getMessage());
            } finally {
                lock.close(); // released already after a clean; kept (the file) after a failure
            }
        }
        if (!removed.isEmpty()) {
            LOG.info("reconciled {} container(s) left by a runtime that died: {}", removed.size(), removed);
        }
        return new Outcome(removed, failed);
    }

    /** Whether the container was started detached: it runs on its own, with nobody holding its lock. */
    public static boolean detached(StateDocument d) {
        return d.spec() != null && Boolean.TRUE.equals(d.spec().detached());
    }

    private Optional<StateDocument> readQuietly(String id) {
        try {
            return store.read(id);
        } catch (UncheckedIOException e) {
            return Optional.empty(); // clean() says why, and cleans by id
        }
    }

    /**
     * What {@link #settle} found: the container still runs; or it ended, with how ({@code exit}), and
     * was removed when it asked for that ({@code autoRemove}).
     */
    public record Settled(boolean running, Optional<StateDocument> state, boolean removed, boolean deferred) {
        public Settled(boolean running, Optional<StateDocument> state, boolean removed) {
            this(running, state, removed, false);
        }
    }

    /**
     * Brings a detached container's state up to date; the caller holds its lock. While its monitor
     * runs, nothing is done. Once it is gone: the exit status its monitor recorded (SIGKILL when it
     * recorded none: its monitor was killed, and the init with it), whether the OOM killer struck, and
     * the final figures are written to the state, and its cgroup is removed; a container that asked
     * for {@code autoRemove} is then removed. Its writable layer, logs and state otherwise stay until
     * it is removed (docker's exited containers). An end not recorded yet while its supervisor lease is
     * held is left to its holder (the starter's handle, or an exit command), which records it (and its
     * decision) itself: {@code deferred}, the state as it was.
     */
    public Settled settle(String id, StateDocument d) {
        return settle(id, d, null);
    }

    /**
     * {@link #settle(String, StateDocument)} by the holder of its supervisor lease, with {@code then}
     * applied to the settled state before it is written (the decision recorded in the same write).
     */
    public Settled settle(String id, StateDocument d, java.util.function.UnaryOperator<StateDocument> then) {
        if (d.containerStatus() == ContainerStatus.RESTARTING) {
            IdLock lease = store.tryLease(id);
            if (lease == null) {
                // settled already by its supervisor, which waits for its backoff: its record stays as it is
                return new Settled(false, Optional.of(d), false);
            }
            lease.close();
            if (d.monitor() != null && isLive(d.monitor().id())) {
                // a restart's new run, between its clone and its exec (recorded restarting until then)
                return new Settled(true, Optional.of(d), false);
            }
            // its supervisor died while it waited (a JVM killed): nobody finishes the restart, it stays exited
            StateDocument now = d.withStatus(ContainerStatus.EXITED);
            store.write(now);
            LOG.info("container {}: its restart was left unfinished by a supervisor that died; it stays exited", id);
            if (Boolean.TRUE.equals(d.spec().autoRemove())) {
                clean(id);
                return new Settled(false, Optional.of(now), true);
            }
            return new Settled(false, Optional.of(now), false);
        }
        if (d.containerStatus() != ContainerStatus.EXITED && d.monitor() != null && isLive(d.monitor().id())) {
            return new Settled(true, Optional.of(d), false);
        }
        if (then == null && (d.containerStatus() != ContainerStatus.EXITED || d.cgroup() == null
                || !d.cgroup().isEmpty())) {
            IdLock lease = store.tryLease(id);
            if (lease == null && store.hasDirectory(id)) {
                // its supervisor (a live holder of its lease) records this end and decides what follows:
                // settling it here too would race its teardown (its cgroup) and its record
                return new Settled(false, Optional.of(d), false, true);
            }
            if (lease != null) {
                lease.close();
            }
        }
        if (d.started() == null) {
            // its start never completed (its starter died before the target's exec): never a container
            // anyone was handed, so nothing to keep
            clean(id);
            return new Settled(false, Optional.of(d), true);
        }
        StateDocument now = d;
        if (d.containerStatus() != ContainerStatus.EXITED || d.cgroup() == null || !d.cgroup().isEmpty()) {
            Optional<StateStore.RecordedExit> recorded = store.readExit(id);
            ExitStatus status = recorded.map(r -> WaitStatus.exited(r.waitStatus())
                    ? ExitStatus.exited(WaitStatus.exitCode(r.waitStatus()))
                    : ExitStatus.killed(WaitStatus.termSignal(r.waitStatus())))
                    .orElse(ExitStatus.killed(Syscalls.SIGKILL));
            StateDocument.UsageDoc usage = null;
            Optional<Cgroup> cg = cgroups == null ? Optional.empty() : cgroups.open(id);
            if (cg.isPresent()) {
                status = status.withOomKilled(cg.get().oomKillCount() > 0);
                usage = usage(cg.get());
                cg.get().remove();
            }
            if (d.exit() != null) {
                status = d.exit().toExitStatus(); // recorded by its starter already
            }
            now = d.withExit(status, d.finished() != null ? d.finished()
                    : recorded.map(r -> r.at().toString()).orElse(java.time.Instant.now().toString()))
                    .withCgroup(List.of());
            if (usage != null || d.usage() == null) {
                now = now.withUsage(usage != null ? usage : d.usage());
            }
            if (then != null) {
                now = then.apply(now);
            }
            store.write(now);
            LOG.debug("container {}: detached, ended {}", id, status);
        }
        if (Boolean.TRUE.equals(d.spec().autoRemove())) {
            clean(id);
            return new Settled(false, Optional.of(now), true);
        }
        return new Settled(false, Optional.of(now), false);
    }

    private static StateDocument.UsageDoc usage(Cgroup cg) {
        try {
            return StateDocument.UsageDoc.of(cg.stats());
        } catch (RuntimeException e) {
            return null;
        }
    }

    /**
     * Whether the process {@code p} names still runs berth-init (a monitor or an init): same pid and
     * start time, not a zombie.
     */
    public static boolean isLive(ProcessId p) {
        if (p.pid() <= 0 || p.startTime() < 0) {
            return false;
        }
        try {
            return ProcessId.startTime(p.pid()) == p.startTime() && !ProcessId.hasEnded(p.pid())
                    && ProcessId.runsBerthInit(p.pid());
        } catch (RuntimeException e) {
            return false; // gone meanwhile
        }
    }

    /**
     * Cleans up {@code id}; the caller holds its lock (and releases it after, or claims the id
     * anew). On failure whatever is left stays, with its state, and the exception says what.
     *
     * @return whether there was a state directory (false: a lock file alone, nothing to clean)
     */
    public boolean clean(String id) {
        if (!store.hasDirectory(id)) {
            if (Files.exists(store.root().resolve(id), LinkOption.NOFOLLOW_LINKS)) {
                throw new IllegalStateException("state directory " + store.root().resolve(id)
                        + " is not a directory of this user's: left alone");
            }
            return false; // a lock file alone: its runtime died before making the directory, or after removing it
        }
        Optional<StateDocument> state;
        try {
            state = store.read(id);
        } catch (UncheckedIOException e) {
            // not a state Berth wrote (the writes are atomic): none of its pids is trusted
            LOG.warn("container {}: unreadable state, cleaning up by id only: {}", id, e.getMessage());
            state = Optional.empty();
        }
        LOG.debug("container {}: reconciling ({})", id, state.map(StateDocument::status).orElse("no state"));
        if (state.isPresent() && detached(state.get()) && state.get().containerStatus() != ContainerStatus.EXITED
                && state.get().monitor() != null && isLive(state.get().monitor().id())) {
            throw new IllegalStateException("container " + id + " is running (detached); stop it first");
        }
        if (state.isPresent()) {
            for (StateDocument.ProcessDoc p : new StateDocument.ProcessDoc[] {state.get().monitor(), state.get().init()}) {
                if (p != null) {
                    killIfStill(id, p.id());
                }
            }
        }
        // a state without a cgroup had it removed already (or never had one): a cgroup of that name is not its
        boolean cgroupLeft = state.isEmpty() || state.get().cgroup() == null || !state.get().cgroup().isEmpty();
        if (cgroups != null && cgroupLeft) {
            cgroups.open(id).ifPresent(Cgroup::remove); // kills what is left (by membership, not by pid), then rmdir
        }
        Path layer = storageRoot.resolve("containers").resolve(id);
        boolean hadLayer = Files.exists(layer, LinkOption.NOFOLLOW_LINKS);
        if (hadLayer) {
            refuseIfMounted(layer);
            if (layers == LayerPolicy.KEEP) {
                keepAside(id, layer);
            } else {
                layerRemover.accept(layer);
            }
        }
        if (hadLayer || state.isEmpty() || state.get().image() != null) {
            try {
                unpin.unpin(id);
            } catch (IOException e) {
                throw new UncheckedIOException("unpinning image layers of " + id + ": " + e.getMessage(), e);
            }
        }
        // its processes are gone, its namespace still pinned: DEL runs, then the pin (in the state directory) goes
        network.release(id);
        store.remove(id);
        return true;
    }

    /**
     * SIGKILL to the process {@code p} names, if that process still exists: the pidfd is opened
     * first, then the start time and the executable are checked, so the signal reaches the process
     * that was checked even if it ends and its pid is reused meanwhile.
     */
    void killIfStill(String id, ProcessId p) {
        if (p.pid() <= 0 || p.startTime() < 0) {
            return;
        }
        int pidfd;
        try {
            pidfd = sys.pidfdOpen(p.pid());
        } catch (SyscallException e) {
            return; // ESRCH: gone
        }
        try {
            if (ProcessId.startTime(p.pid()) != p.startTime()) {
                LOG.debug("container {}: pid {} is another process now: not signalled", id, p.pid());
                return;
            }
            if (ProcessId.hasEnded(p.pid())) {
                return; // a zombie: it ended (its monitor or JVM died before reaping it); nothing to signal
            }
            if (!ProcessId.runsBerthInit(p.pid())) {
                LOG.warn("container {}: pid {} has the recorded start time but does not run berth-init: not"
                        + " signalled", id, p.pid());
                return;
            }
            if (sys.pidfdSendSignal(pidfd, Syscalls.SIGKILL)) {
                LOG.debug("container {}: killed {} left by a runtime that died", id, p.pid());
            }
            if (!sys.pollIn(pidfd, (int) timeout.toMillis())) {
                throw new IllegalStateException("container " + id + ": process " + p.pid() + " still there "
                        + timeout.toMillis() + " ms after SIGKILL");
            }
        } finally {
            sys.close(pidfd);
        }
    }

    /** Deleting through a mount would delete its source's files: anything mounted below stops the cleanup. */
    private static void refuseIfMounted(Path dir) {
        String prefix = dir.toString() + "/";
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/mountinfo"))) {
                String[] f = line.split(" ");
                String mountPoint = f.length > 4 ? f[4].replace("\\040", " ") : "";
                if (mountPoint.equals(dir.toString()) || mountPoint.startsWith(prefix)) {
                    throw new IllegalStateException("writable layer " + dir + ": " + mountPoint
                            + " is mounted below it; left alone");
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("reading /proc/self/mountinfo: " + e.getMessage(), e);
        }
    }

    private void keepAside(String id, Path layer) {
        try {
            Path orphaned = storageRoot.resolve("orphaned");
            dev.berth.core.internal.PrivateDirectories.create(orphaned, true);
            Path target = orphaned.resolve(id);
            if (Files.exists(target, LinkOption.NOFOLLOW_LINKS)) {
                target = orphaned.resolve(id + "-" + System.currentTimeMillis());
            }
            Files.move(layer, target, StandardCopyOption.ATOMIC_MOVE);
            LOG.info("container {}: writable layer kept at {}", id, target);
        } catch (IOException e) {
            throw new UncheckedIOException("keeping aside " + layer + ": " + e.getMessage(), e);
        }
    }

    /** Removes a tree without following a symlink (links are removed as links). */
    public static void deleteTree(Path dir) {
        if (!Files.exists(dir, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        try {
            delete(dir);
        } catch (IOException e) {
            throw new UncheckedIOException("removing " + dir + ": " + e.getMessage(), e);
        }
    }

    /**
     * Depth first, never following a symlink. A directory closed to its owner (the overlay's {@code work/work} is
     * made mode 0; a rootless container's root makes directories as the user, with any mode) is opened up for
     * the owner first: root never needs it, a rootless runtime does.
     */
    private static void delete(Path p) throws IOException {
        java.nio.file.attribute.BasicFileAttributes a;
        try {
            a = Files.readAttributes(p, java.nio.file.attribute.BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        } catch (java.nio.file.NoSuchFileException e) {
            return;
        }
        if (a.isDirectory()) {
            List<Path> children;
            try {
                children = list(p);
            } catch (java.nio.file.AccessDeniedException e) {
                openForOwner(p);
                children = list(p);
            }
            for (Path c : children) {
                try {
                    delete(c);
                } catch (java.nio.file.AccessDeniedException e) {
                    openForOwner(p);
                    delete(c);
                }
            }
        }
        Files.deleteIfExists(p);
    }

    private static List<Path> list(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.toList();
        }
    }

    private static void openForOwner(Path dir) throws IOException {
        java.util.Set<java.nio.file.attribute.PosixFilePermission> perms = new java.util.HashSet<>(
                Files.getPosixFilePermissions(dir, LinkOption.NOFOLLOW_LINKS));
        perms.addAll(java.util.EnumSet.of(java.nio.file.attribute.PosixFilePermission.OWNER_READ,
                java.nio.file.attribute.PosixFilePermission.OWNER_WRITE,
                java.nio.file.attribute.PosixFilePermission.OWNER_EXECUTE));
        Files.setPosixFilePermissions(dir, perms);
    }
}
