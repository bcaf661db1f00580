package dev.berth.core.internal;

import dev.berth.core.ContainerSpec;
import dev.berth.core.ContainerStartException;
import dev.berth.core.IdMapping;
import dev.berth.core.Mount;
import dev.berth.core.Namespace;
import dev.berth.core.NetworkMode;
import dev.berth.core.SubordinateIds;
import dev.berth.core.UserNamespace;
import dev.berth.core.internal.plan.ExecProfile;
import dev.berth.core.internal.plan.MountOptions;
import dev.berth.core.internal.plan.Op;
import dev.berth.core.internal.plan.OpCode;
import dev.berth.core.internal.sys.SyscallException;
import dev.berth.core.internal.sys.Syscalls;
import dev.berth.image.LayerOwners;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

/**
 * The decisions of a rootless start (the JVM's effective uid is not 0), as rootless podman makes them: every
 * container gets a user namespace whose root is the user (container uid 0 to the user's own uid, 1..N to the
 * user's first subordinate range of {@code /etc/subuid}, gids likewise; only 0 to the user's own ids when there is
 * no range), written between the monitor's {@code C(pid)} and its go by the JVM itself (single id: {@code deny} to
 * {@code setgroups}, then the maps) or by the setuid helpers {@code newuidmap}/{@code newgidmap} (exec'd: never a
 * fork into Java); which layers' listed owners the init gives back ({@link OpCode#LAYER_OWNERS}); and the one-line
 * errors for what needs root.
 */
public final class RootlessStart {
    /** Where a rootless user reads how to get what is missing. */
    public static final String DOCS = "see docs/rootless.md";
    /** Beside a layer: the uid and gid maps its listed owners were given for (written after a start that did it). */
    static final String APPLIED_SUFFIX = ".owners-applied";

    private final long uid;
    private final long gid;
    private final String user;
    private final SubordinateIds subuid;
    private final SubordinateIds subgid;
    private final String newuidmap;
    private final String newgidmap;

    /**
     * @param uid    the JVM's effective uid
     * @param gid    the JVM's effective gid
     * @param user   its user name (subordinate id lines name the user or its uid)
     */
    public RootlessStart(long uid, long gid, String user, SubordinateIds subuid, SubordinateIds subgid) {
        this(uid, gid, user, subuid, subgid, "newuidmap", "newgidmap");
    }

    RootlessStart(long uid, long gid, String user, SubordinateIds subuid, SubordinateIds subgid, String newuidmap,
            String newgidmap) {
        this.uid = uid;
        this.gid = gid;
        this.user = user;
        this.subuid = subuid;
        this.subgid = subgid;
        this.newuidmap = newuidmap;
        this.newgidmap = newgidmap;
    }

    public long uid() {
        return uid;
    }

    /** The rootless mapping: 0 to the user's own id, 1..N to its first subordinate range (if any). */
    public UserNamespace defaultMapping() {
        return UserNamespace.of(map(uid, firstRange(subuid, uid)), map(gid, firstRange(subgid, uid)));
    }

    private SubordinateIds.Range firstRange(SubordinateIds ids, long id) {
        List<SubordinateIds.Range> r = ids.rangesOf(user, uid);
        return r.isEmpty() ? null : r.get(0);
    }

    private static List<IdMapping> map(long own, SubordinateIds.Range sub) {
        List<IdMapping> m = new ArrayList<>();
        m.add(IdMapping.of(0, own, 1));
        if (sub != null) {
            m.add(IdMapping.of(1, sub.start(), sub.count()));
        }
        return m;
    }

    /** Whether the mapping is the single id (no subordinate ids): the JVM writes it, and setgroups is denied. */
    public static boolean singleId(UserNamespace ns) {
        return ns.uidMap().size() == 1 && ns.uidMap().get(0).size() == 1 && ns.gidMap().size() == 1
                && ns.gidMap().get(0).size() == 1;
    }

    /**
     * The user namespace a rootless container gets: the rootless mapping for the host's (the default: a rootless
     * container always has one) and for {@code auto} (the user's ids are not split between containers: each one's
     * root is the user, as rootless podman's default, so that the user's store shows as the container root's); an
     * explicit mapping only within what the user may map (its own ids, its subordinate ranges).
     */
    public UserNamespace resolve(UserNamespace requested) throws ContainerStartException {
        if (requested.mode() != UserNamespace.Mode.MAPPED) {
            return defaultMapping();
        }
        if (!requested.hostUid(0).equals(java.util.Optional.of(uid))
                || !requested.hostGid(0).equals(java.util.Optional.of(gid))) {
            throw new ContainerStartException("rootless: userNamespace " + requested + " must map the container's root"
                    + " (uid and gid 0) to uid " + uid + " and gid " + gid + ", the user the store belongs to ("
                    + DOCS + ")");
        }
        check("uid", requested.uidMap(), uid, subuid);
        check("gid", requested.gidMap(), gid, subgid);
        return requested;
    }

    private void check(String kind, List<IdMapping> map, long own, SubordinateIds ids) throws ContainerStartException {
        List<SubordinateIds.Range> ranges = ids.rangesOf(user, uid);
        for (IdMapping m : map) {
            boolean ok = m.hostId() == own && m.size() == 1;
            for (SubordinateIds.Range r : ranges) {
                ok |= m.hostId() >= r.start() && m.hostEnd() <= r.end();
            }
            if (!ok) {
                throw new ContainerStartException("rootless: userNamespace " + kind + " mapping " + m + " maps host "
                        + kind + "s that uid " + uid + " may not map (its own " + kind + " " + own + ", and "
                        + (ranges.isEmpty() ? "no subordinate range in " + ids.file()
                                : ranges.stream().map(r -> r.start() + "-" + r.end()).collect(Collectors.joining(", "))
                                + " from " + ids.file())
                        + "; " + DOCS + ")");
            }
        }
    }

    /**
     * Refuses, one line each, what a rootless container cannot have: limits without a cgroup, the host's PID
     * namespace without a cgroup (nothing else could kill every process of the container), a bridge or CNI
     * network, another container's network namespace, idmapped mounts, and hard rlimits above this process's own.
     *
     * @param cgroups whether the runtime has a cgroup to put the container in (a delegated subtree)
     */
    public void checkSpec(ContainerSpec spec, boolean cgroups) throws ContainerStartException {
        if (!cgroups && !spec.resources().isEmpty()) {
            throw new ContainerStartException("rootless: resources (memory, cpu, pids, io, device rules) need a"
                    + " delegated cgroup v2 subtree (none found for uid " + uid + "; " + DOCS + ")");
        }
        if (!cgroups && !spec.namespaces().contains(Namespace.PID)) {
            // in the host's PID namespace the init is not its processes' reaper: only a cgroup finds them all to kill
            throw new ContainerStartException("rootless: shareNamespace PID needs a delegated cgroup v2 subtree to"
                    + " end every process of the container (none found for uid " + uid + "; " + DOCS + ")");
        }
        NetworkMode n = spec.network();
        if (n.attaches()) {
            throw new ContainerStartException("rootless: network " + n + " needs root (a bridge and CNI plugins);"
                    + " use network pasta or slirp4netns (ports publish through them), none or host (" + DOCS + ")");
        }
        if (n.kind() == NetworkMode.Kind.CONTAINER) {
            throw new ContainerStartException("rootless: network " + n + " needs root (another container's network"
                    + " namespace belongs to its own user namespace); use network pasta, slirp4netns, none or host (" + DOCS
                    + ")");
        }
        for (int i = 0; i < spec.mounts().size(); i++) {
            Mount m = spec.mounts().get(i);
            if (m.type() != Mount.Type.TMPFS && MountOptions.parse(m.type(), m.options()).idmap()) {
                throw new ContainerStartException("rootless: mounts[" + i + "] option idmap needs root (the kernel"
                        + " refuses idmapped mounts in a rootless user namespace; " + DOCS + ")");
            }
        }
        long[] hard = hardLimits();
        for (ExecProfile.Limit l : ExecProfile.limits(spec.rlimits())) {
            if (l.resource() < hard.length && Long.compareUnsigned(l.hard(), hard[l.resource()]) > 0) {
                throw new ContainerStartException("rootless: rlimits " + l.name() + " hard limit " + shown(l.hard())
                        + " is above this process's hard limit " + shown(hard[l.resource()]) + "; only root can raise"
                        + " it (" + DOCS + ")");
            }
        }
    }

    private static String shown(long v) {
        return v == -1 ? "unlimited" : Long.toUnsignedString(v);
    }

    /** This process's hard limits by resource number ({@code /proc/self/limits} lists them in that order). */
    static long[] hardLimits() {
        List<String> lines;
        try {
            lines = Files.readAllLines(Path.of("/proc/self/limits"));
        } catch (IOException e) {
            return new long[0];
        }
        long[] out = new long[Math.max(0, lines.size() - 1)];
        for (int i = 1; i < lines.size(); i++) {
            String l = lines.get(i);
            String h = l.length() >= 67 ? l.substring(47, 67).trim() : "unlimited";
            out[i - 1] = h.equals("unlimited") ? -1 : Long.parseLong(h);
        }
        return out;
    }

    // ---- exec ----

    /**
     * The process an exec into a rootless container enters through: the init when its user may inspect it (a
     * target run as PID 1), else the init's first child (its target; the init itself is non-dumpable with the host
     * user namespace's memory, so {@code /proc/PID/root}, {@code ns/*} and a pidfd's setns are refused to an
     * unprivileged user, as they must stay to the container's processes).
     */
    public static long entryProcess(long initPid) {
        try {
            Files.readSymbolicLink(Path.of("/proc/" + initPid + "/root"));
            return initPid;
        } catch (IOException | RuntimeException e) {
            // closed to this user: its child
        }
        String children;
        try {
            children = Files.readString(Path.of("/proc/" + initPid + "/task/" + initPid + "/children")).strip();
        } catch (IOException e) {
            throw new dev.berth.core.ContainerException("exec: the container's init (pid " + initPid + ") is gone", e);
        }
        if (children.isEmpty()) {
            throw new dev.berth.core.ContainerException("exec: the container's init (pid " + initPid + ") runs no"
                    + " process to enter through (its target ended)");
        }
        return Long.parseLong(children.split("\\s+")[0]);
    }

    /**
     * {@link #entryProcess} without its errors: the process whose {@code /proc/PID/root} shows the container's root to
     * its user (the init itself when it is not closed to the user, or nothing runs beside it).
     */
    public static long inspectable(long initPid) {
        try {
            return entryProcess(initPid);
        } catch (RuntimeException e) { // ContainerException too (unchecked)
            return initPid;
        }
    }

    /** The parent pid of {@code pid} (field 4 of its stat), or -1. */
    public static long parentOf(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
            return Long.parseLong(stat.substring(stat.lastIndexOf(')') + 2).split(" ")[1]);
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }

    // ---- the maps ------------------------------------------------------------------------------------------

    /**
     * Writes the maps of {@code pid}'s new user namespace: the single id by the JVM itself ({@code deny} to
     * {@code /proc/PID/setgroups} first, which the kernel requires of an unprivileged gid map), more through
     * {@code newuidmap} and {@code newgidmap}.
     */
    public void writeMaps(Syscalls sys, long pid, UserNamespace ns) throws ContainerStartException {
        if (singleId(ns)) {
            writeFile(sys, "/proc/" + pid + "/setgroups", "deny");
            UserNamespaces.writeMaps(sys, pid, ns);
            return;
        }
        // both at once (each is independent of the other; a start waits for the slower, not for the sum)
        Helper uids = helper(newuidmap, pid, ns.uidMap(), subuid.file());
        Helper gids;
        try {
            gids = helper(newgidmap, pid, ns.gidMap(), subgid.file());
        } catch (ContainerStartException e) {
            uids.abandon();
            throw e;
        }
        try {
            uids.await();
        } catch (ContainerStartException e) {
            gids.abandon();
            throw e;
        }
        gids.await();
    }

    private static void writeFile(Syscalls sys, String path, String text) throws ContainerStartException {
        byte[] b = text.getBytes(StandardCharsets.US_ASCII);
        int fd = -1;
        try {
            fd = sys.open(path, Syscalls.O_WRONLY | Syscalls.O_CLOEXEC, 0);
            sys.write(fd, b, 0, b.length);
        } catch (SyscallException e) {
            throw new ContainerStartException(e.syscall() + "(" + path + ", \"" + text + "\"): " + sys.strerror(e.errno()),
                    e.syscall(), path, e.errno(), e);
        } finally {
            if (fd >= 0) {
                sys.close(fd);
            }
        }
    }

    /** The argv of newuidmap/newgidmap for this map: {@code PID inside outside count ...}. */
    static List<String> helperArgv(String binary, long pid, List<IdMapping> map) {
        List<String> argv = new ArrayList<>();
        argv.add(binary);
        argv.add(Long.toString(pid));
        for (IdMapping m : map) {
            argv.add(Long.toString(m.containerId()));
            argv.add(Long.toString(m.hostId()));
            argv.add(Long.toString(m.size()));
        }
        return argv;
    }

    /** A running newuidmap/newgidmap: its command line and fix for errors. */
    private record Helper(Process process, String shown, String fix, CompletableFuture<String> stderr) {
        void abandon() {
            process.destroyForcibly();
            try {
                process.waitFor(5, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }

        void await() throws ContainerStartException {
            try {
                if (!process.waitFor(30, TimeUnit.SECONDS)) {
                    abandon();
                    throw new ContainerStartException("rootless: " + shown + ": no answer in 30 s" + fix);
                }
                if (process.exitValue() != 0) {
                    String e = stderr.get(5, TimeUnit.SECONDS).strip().replace('\n', ' ');
                    throw new ContainerStartException("rootless: " + shown + ": exit " + process.exitValue()
                            + (e.isEmpty() ? "" : ": " + e) + fix);
                }
            } catch (InterruptedException e) {
                abandon();
                Thread.currentThread().interrupt();
                throw new ContainerStartException("rootless: " + shown + ": interrupted", e);
            } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
                throw new ContainerStartException("rootless: " + shown + ": exit " + process.exitValue() + fix, e);
            }
        }
    }

    private Helper helper(String binary, long pid, List<IdMapping> map, Path file) throws ContainerStartException {
        List<String> argv = helperArgv(binary, pid, map);
        String shown = String.join(" ", argv);
        String fix = " (install the uidmap package, and give uid " + uid + " a line in " + file + ", e.g. "
                + (user == null ? uid : user) + ":100000:65536; " + DOCS + ")";
        Process p;
        try {
            p = new ProcessBuilder(argv).redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        } catch (IOException e) {
            throw new ContainerStartException("rootless: " + shown + ": cannot run " + binary + ": " + e.getMessage()
                    + fix, e);
        }
        return new Helper(p, shown, fix, CompletableFuture.supplyAsync(() -> read(p.getErrorStream())));
    }

    private static String read(InputStream in) {
        try (in) {
            byte[] b = in.readNBytes(4096);
            return new String(b, StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "";
        }
    }

    // ---- layer owners ----------------------------------------------------------------------------------------

    /** The LAYER_OWNERS ops of a start, and the layers to mark once it succeeded. */
    public record LayerWork(List<Op> ops, List<Path> layers, String mapping) {
        public static final LayerWork NONE = new LayerWork(List.of(), List.of(), "");

        /** Records, beside each layer, the mapping its owners were given for: after the start that gave them. */
        public void markApplied() throws IOException {
            for (Path layer : layers) {
                Path marker = marker(layer);
                Path tmp = marker.resolveSibling(marker.getFileName() + ".tmp-" + ProcessHandle.current().pid());
                Files.writeString(tmp, mapping + "\n");
                Files.move(tmp, marker, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            }
        }
    }

    static Path marker(Path layer) {
        return layer.resolveSibling(layer.getFileName() + APPLIED_SUFFIX);
    }

    /** The marker's text for a mapping: its uid and gid maps. */
    static String mappingText(UserNamespace ns) {
        return "uid " + ns.uidMap().stream().map(IdMapping::toString).collect(Collectors.joining(",")) + " gid "
                + ns.gidMap().stream().map(IdMapping::toString).collect(Collectors.joining(","));
    }

    /**
     * Decides which layers of the root need their listed owners given (a non-empty {@link LayerOwners} list and no
     * marker for this mapping): one {@link OpCode#LAYER_OWNERS} op per layer, which the init runs as the
     * namespace's root before it mounts them. Nothing with the single id (no owner but the user's can be given;
     * the entries stay the container root's, as under rootless podman).
     */
    public static LayerWork layerWork(List<Path> layersTopFirst, UserNamespace ns) throws ContainerStartException {
        if (singleId(ns)) {
            return LayerWork.NONE;
        }
        String mapping = mappingText(ns);
        List<Op> ops = new ArrayList<>();
        List<Path> layers = new ArrayList<>();
        for (Path layer : layersTopFirst) {
            List<LayerOwners.Entry> entries;
            try {
                if (!Files.exists(LayerOwners.fileFor(layer))) {
                    continue;
                }
                Path marker = marker(layer);
                if (Files.exists(marker) && Files.readString(marker).strip().equals(mapping)) {
                    continue;
                }
                entries = LayerOwners.read(layer);
            } catch (IOException | RuntimeException e) {
                throw new ContainerStartException("layer " + layer + ": owners list " + LayerOwners.fileFor(layer)
                        + ": " + e.getMessage(), e);
            }
            if (entries.isEmpty()) {
                continue;
            }
            ops.add(layerOwnersOp(layer, entries, ns));
            layers.add(layer);
        }
        return new LayerWork(ops, layers, mapping);
    }

    /**
     * One layer's op: its directory, then per entry its path (relative, beneath the layer), uid, gid and mode.
     * Refuses a path that is absolute, empty, or has {@code .} or {@code ..} components, and an owner the
     * container's maps leave out.
     */
    static Op layerOwnersOp(Path layer, List<LayerOwners.Entry> entries, UserNamespace ns)
            throws ContainerStartException {
        List<Object> args = new ArrayList<>();
        args.add(layer.toString());
        for (LayerOwners.Entry e : entries) {
            String p = e.path();
            for (String c : p.split("/", -1)) {
                if (c.isEmpty() || c.equals(".") || c.equals("..") || p.startsWith("/") || p.indexOf('\0') >= 0) {
                    throw new ContainerStartException("layer " + layer + ": owners entry \"" + p + "\": not a plain"
                            + " relative path beneath the layer");
                }
            }
            if (!UserNamespaces.maps(ns.uidMap(), e.uid()) || !UserNamespaces.maps(ns.gidMap(), e.gid())) {
                throw new ContainerStartException("layer " + layer + ": owners entry " + p + " owner " + e.uid() + ":"
                        + e.gid() + " is not mapped by the container's maps (" + mappingText(ns) + "); give uid/gid a"
                        + " larger subordinate range (" + DOCS + ")");
            }
            args.add(p);
            args.add((long) e.uid());
            args.add((long) e.gid());
            args.add((long) e.mode());
        }
        return Op.of(OpCode.LAYER_OWNERS, args.toArray());
    }
}
