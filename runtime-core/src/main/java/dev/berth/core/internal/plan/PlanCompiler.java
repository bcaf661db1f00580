package dev.berth.core.internal.plan;

import dev.berth.cgroups.DeviceRule;
import dev.berth.core.Capability;
import dev.berth.core.ContainerSpec;
import dev.berth.core.Device;
import dev.berth.core.Mount;
import dev.berth.core.Namespace;
import dev.berth.core.TerminalSize;
import dev.berth.core.internal.user.ResolvedUser;
import dev.berth.linux.internal.LinuxConstants;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Turns a validated {@link ContainerSpec} into the plan the native stage executes.
 * Every policy decision (order, flags, which paths, which capabilities) is made here.
 */
public final class PlanCompiler {

    static final long MS_RDONLY = LinuxConstants.MS_RDONLY;
    static final long MS_NOSUID = LinuxConstants.MS_NOSUID;
    static final long MS_NODEV = LinuxConstants.MS_NODEV;
    static final long MS_NOEXEC = LinuxConstants.MS_NOEXEC;
    static final long MS_REMOUNT = LinuxConstants.MS_REMOUNT;
    static final long MS_BIND = LinuxConstants.MS_BIND;
    static final long MS_REC = LinuxConstants.MS_REC;
    static final long MS_PRIVATE = LinuxConstants.MS_PRIVATE;
    static final long MS_STRICTATIME = LinuxConstants.MS_STRICTATIME;
    static final long S_IFCHR = LinuxConstants.S_IFCHR;
    static final long S_IFBLK = LinuxConstants.S_IFBLK;
    static final long SIGKILL = LinuxConstants.SIGKILL;
    /** Where a container with a terminal finds it bound, as under runc and docker. */
    static final String CONSOLE = "/dev/console";

    /** The device nodes every container gets in its /dev (docker's and runc's set). */
    public static final List<Device> DEFAULT_DEVICES = List.of(
            Device.character("/dev/null", 1, 3), Device.character("/dev/zero", 1, 5),
            Device.character("/dev/full", 1, 7), Device.character("/dev/random", 1, 8),
            Device.character("/dev/urandom", 1, 9), Device.character("/dev/tty", 5, 0));

    /**
     * The device policy of every container, before the devices its spec grants: mknod of any node
     * (as docker allows: opening is what matters), the default nodes, ptmx and the container's own
     * pseudo-terminals (its devpts instance numbers them 136:N). Not the host's console (5:1),
     * which docker and runc allow: a container's console is one of its own ptys.
     */
    public static final List<DeviceRule> DEFAULT_DEVICE_RULES = defaultDeviceRules();

    private static List<DeviceRule> defaultDeviceRules() {
        List<DeviceRule> r = new ArrayList<>();
        r.add(DeviceRule.allow(DeviceRule.Type.CHAR, DeviceRule.ANY, DeviceRule.ANY, "m"));
        r.add(DeviceRule.allow(DeviceRule.Type.BLOCK, DeviceRule.ANY, DeviceRule.ANY, "m"));
        DEFAULT_DEVICES.forEach(d -> r.add(d.rule()));
        r.add(DeviceRule.allow(DeviceRule.Type.CHAR, 5, 2, "rwm"));             // /dev/pts/ptmx
        r.add(DeviceRule.allow(DeviceRule.Type.CHAR, 136, DeviceRule.ANY, "rwm")); // /dev/pts/N
        return List.copyOf(r);
    }

    /**
     * The whole device policy of a container with this spec: the defaults, then a rule per device
     * the spec grants, then the spec's own rules ({@code resources.devices}), which thus have the
     * last word.
     */
    public static List<DeviceRule> deviceRules(ContainerSpec spec) {
        List<DeviceRule> r = new ArrayList<>(DEFAULT_DEVICE_RULES);
        spec.devices().forEach(d -> r.add(d.rule()));
        r.addAll(spec.resources().devices());
        return r;
    }

    /** The nodes made in /dev: the defaults, each replaced by a spec device of the same path, then the rest. */
    public static List<Device> deviceNodes(ContainerSpec spec) {
        Map<String, Device> nodes = new LinkedHashMap<>();
        DEFAULT_DEVICES.forEach(d -> nodes.put(d.path(), d));
        spec.devices().forEach(d -> nodes.put(d.path(), d));
        return new ArrayList<>(nodes.values());
    }

    private PlanCompiler() {}

    /**
     * @param root     where the root filesystem comes from
     * @param hostname the UTS hostname (used when the spec has its own UTS namespace)
     * @param process  the resolved target: argv, environment, working directory, identity
     */
    public static Plan compile(ContainerSpec spec, RootSource root, String hostname, ProcessPlan process,
            CgroupPlacement cgroups) {
        return compile(spec, root, hostname, process, cgroups, MountSources.NONE, ContainerView.NONE);
    }

    /**
     * @param mounts the detached trees of the spec's bind mounts and volumes
     * @param view   what the container is shown of the host: its own cgroup at /sys/fs/cgroup and the
     *               generated /etc files
     */
    public static Plan compile(ContainerSpec spec, RootSource root, String hostname, ProcessPlan process,
            CgroupPlacement cgroups, MountSources mounts, ContainerView view) {
        return compile(spec, root, hostname, process, cgroups, mounts, view, -1);
    }

    /**
     * @param joinNetworkFd a pidfd of another container's init whose network namespace the init
     *                      joins ({@code container:<id>}), at this fd in the monitor; -1 for none
     */
    public static Plan compile(ContainerSpec spec, RootSource root, String hostname, ProcessPlan process,
            CgroupPlacement cgroups, MountSources mounts, ContainerView view, int joinNetworkFd) {
        return compile(spec, root, hostname, process, cgroups, mounts, view, joinNetworkFd, null);
    }

    /**
     * @param userns the container's own user namespace, or null for the host's: cloned with its other
     *               namespaces (which it then owns); the init receives its idmapped root and /etc files from
     *               the JVM ({@link OpCode#RECV_MOUNT}) and becomes the namespace's root before it makes
     *               anything; devices are the host's nodes bound onto empty files (mknod is refused in a
     *               user namespace); /sys is the host's, bound read-only, unless the network namespace is
     *               the container's own; /proc is bound likewise without a PID namespace of its own
     */
    public static Plan compile(ContainerSpec spec, RootSource root, String hostname, ProcessPlan process,
            CgroupPlacement cgroups, MountSources mounts, ContainerView view, int joinNetworkFd, UserNsPlan userns) {
        String rootfs = root.mountpoint();
        List<Op> ops = new ArrayList<>();
        int joinUserns = userns != null && userns.rootless() != null ? userns.rootless().joinFd() : -1;
        long cloneFlags = userns != null && joinUserns < 0 ? LinuxConstants.CLONE_NEWUSER : 0;
        for (Namespace ns : spec.namespaces()) {
            cloneFlags |= ns.cloneFlag();
        }
        // A cgroup namespace is rooted where its creator sits: when the init joins its
        // cgroups after the clone, it unshares the namespace only after joining.
        boolean deferCgroupNs = !cgroups.joins().isEmpty() && spec.namespaces().contains(Namespace.CGROUP);
        if (deferCgroupNs) {
            cloneFlags &= ~Namespace.CGROUP.cloneFlag();
        }
        if (joinNetworkFd >= 0) {
            cloneFlags &= ~Namespace.NETWORK.cloneFlag(); // it joins one instead, below
        }
        ops.add(Op.clone(cloneFlags, cgroups.cloneIntoFd(), joinUserns));
        ops.add(Op.of(OpCode.PDEATHSIG, SIGKILL));
        ops.add(Op.of(OpCode.WAIT_GO));
        if (joinNetworkFd >= 0) {
            // before the mounts: the container's /sys shows the network namespace it is mounted in
            ops.add(Op.of(OpCode.SETNS, (long) joinNetworkFd, Namespace.NETWORK.cloneFlag(),
                    "network namespace of container " + spec.network().name().orElse("")));
        }
        for (CgroupPlacement.Join j : cgroups.joins()) {
            ops.add(Op.writeFd(j.fd(), "0", j.path()));
        }
        if (deferCgroupNs) {
            ops.add(Op.of(OpCode.UNSHARE, Namespace.CGROUP.cloneFlag()));
        }
        ops.add(Op.of(OpCode.UMASK, 0L));
        rootfs(ops, spec, root, mounts, view, userns, joinNetworkFd < 0 && spec.namespaces().contains(Namespace.NETWORK));
        ops.add(Op.of(OpCode.PIVOT_ROOT, rootfs));
        if (spec.tty()) {
            // after the pivot: /dev/pts/ptmx is the container's own devpts instance, so the pty is
            // /dev/pts/0 inside, and opening it is subject to the container's device policy
            ops.add(Op.of(OpCode.TTY_OPEN, (long) spec.consoleSize().rows(), (long) spec.consoleSize().columns(),
                    CONSOLE));
        }
        for (String p : spec.maskedPaths()) {
            ops.add(Op.of(OpCode.MASK, p).optional());
        }
        for (String p : spec.readonlyPaths()) {
            long extra = p.startsWith("/proc/") || p.startsWith("/sys/") ? MS_NOEXEC : 0;
            ops.add(Op.mount(p, p, "", MS_BIND | MS_REC, "", Op.RESOLVE_PLAIN).optional());
            ops.add(Op.mount("", p, "", MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | extra, "",
                    Op.RESOLVE_PLAIN).optional().keepingFlags());
        }
        if (spec.namespaces().contains(Namespace.UTS)) {
            ops.add(Op.of(OpCode.SETHOSTNAME, hostname));
        }
        if (spec.namespaces().contains(Namespace.NETWORK) && joinNetworkFd < 0) {
            ops.add(Op.of(OpCode.LOOPBACK_UP));
        }
        rlimits(ops, ExecProfile.Limit.of(spec.rlimits()));
        ops.add(Op.of(OpCode.UMASK, 0022L));

        int forkAt = ops.size();
        ops.add(null); // FORK, patched below once the init's tail index is known
        target(ops, TargetPolicy.of(spec, cgroups.devicePolicy()), spec.tty(), process, false);
        int tail = ops.size();
        ops.set(forkAt, Op.of(OpCode.FORK, (long) tail));
        initTail(ops);
        Plan plan = new Plan(ops);
        return userns != null && userns.rootless() != null && !userns.rootless().setgroups() ? withoutSetgroups(plan)
                : plan;
    }

    /**
     * The plan without its SETGROUPS ops: for a user namespace whose {@code setgroups} is denied (a rootless
     * single-id map), where the kernel refuses the call; its processes keep the supplementary groups they came
     * with (unmapped, shown as nobody), as under rootless podman without subordinate ids.
     */
    public static Plan withoutSetgroups(Plan plan) {
        List<Op> kept = new ArrayList<>();
        int dropped = 0;
        for (Op o : plan.ops()) {
            if (o.code() == OpCode.SETGROUPS) {
                dropped++;
                continue;
            }
            kept.add(o);
        }
        if (dropped == 0) {
            return plan;
        }
        // FORK names the index the parent goes on at: shift it by the ops dropped before that index
        for (int i = 0; i < kept.size(); i++) {
            Op o = kept.get(i);
            if (o.code() == OpCode.FORK) {
                long at = (Long) o.args().get(0);
                long before = plan.ops().subList(0, (int) at).stream().filter(x -> x.code() == OpCode.SETGROUPS).count();
                kept.set(i, Op.of(OpCode.FORK, at - before));
            }
        }
        return new Plan(kept);
    }

    /** Makes the mount namespace private, then mounts the root (overlay or bind) at its mount point. */
    private static void mountRoot(List<Op> ops, RootSource root) {
        String rootfs = root.mountpoint();
        ops.add(Op.mount("", "/", "", MS_REC | MS_PRIVATE, "", Op.RESOLVE_PLAIN));
        if (root instanceof RootSource.Overlay o) {
            // relative lowerdir entries resolve against the working directory at mount time;
            // writable until the mount points below exist (a minimal image has no /proc)
            ops.add(Op.of(OpCode.CHDIR, o.linkDir()));
            ops.add(Op.mount("overlay", rootfs, "overlay", MS_NODEV, o.options(), Op.RESOLVE_PLAIN));
            ops.add(Op.of(OpCode.CHDIR, "/"));
        } else {
            ops.add(Op.mount(rootfs, rootfs, "", MS_BIND | MS_REC, "", Op.RESOLVE_PLAIN));
        }
    }

    /**
     * The plan of a process that only holds an ended container's root mounted, in a mount
     * namespace of its own, so that its files can be read and written (through
     * {@code /proc/PID/root}) as the container saw them: the overlay of its writable layer
     * over the image's. It writes to {@code readyFd} once the root is mounted, then waits for a
     * go that never comes; closing the control socket ends it, and its mounts with it.
     */
    public static Plan holdRoot(RootSource root, int readyFd) {
        List<Op> ops = new ArrayList<>();
        ops.add(Op.clone(Namespace.MOUNT.cloneFlag(), -1));
        ops.add(Op.of(OpCode.PDEATHSIG, SIGKILL));
        mountRoot(ops, root);
        ops.add(Op.writeFd(readyFd, "1", "ready"));
        ops.add(Op.of(OpCode.WAIT_GO));
        return new Plan(ops);
    }

    /**
     * The plan of a process that only makes a user namespace: cloned into a new one, it waits for its maps and its
     * go, then ends (exit 0). The JVM opens the namespace ({@code /proc/PID/ns/user}) between the maps and the go,
     * and later containers join it ({@link Op#clone(long, long, int)}).
     */
    public static Plan userNamespace() {
        List<Op> ops = new ArrayList<>();
        ops.add(Op.clone(LinuxConstants.CLONE_NEWUSER, -1));
        ops.add(Op.of(OpCode.PDEATHSIG, SIGKILL));
        ops.add(Op.of(OpCode.WAIT_GO));
        return new Plan(ops);
    }

    /**
     * The plan of a process that removes {@code dir} as the root of a new user namespace (whose maps the JVM writes
     * before its go): a rootless container's writable layer holds files of the user's subordinate ids, which only
     * a process of a namespace that maps them may remove. It ends after the removal (exit 0), or reports the failure.
     *
     * @param setgroups whether the namespace allows setgroups (not with a single-id map)
     */
    public static Plan removeTree(String dir, boolean setgroups) {
        return removeTree(dir, setgroups, -1);
    }

    /**
     * {@link #removeTree(String, boolean)} in the user namespace open at {@code usernsFd} in the monitor (the
     * runtime's shared one, already mapped; -1: a new one).
     */
    public static Plan removeTree(String dir, boolean setgroups, int usernsFd) {
        List<Op> ops = new ArrayList<>();
        ops.add(Op.clone(usernsFd < 0 ? LinuxConstants.CLONE_NEWUSER : 0, -1, usernsFd));
        ops.add(Op.of(OpCode.PDEATHSIG, SIGKILL));
        ops.add(Op.of(OpCode.WAIT_GO));
        if (setgroups) {
            ops.add(Op.setgroups(List.of()));
        }
        ops.add(Op.of(OpCode.SETGID, 0L));
        ops.add(Op.of(OpCode.SETUID, 0L));
        ops.add(Op.of(OpCode.REMOVE_TREE, dir));
        return new Plan(ops);
    }

    /** The open flags a rootless copy's reader ({@link #openFiles}) may be asked for: reading, never writing. */
    public static final long OPEN_FILES_ALLOWED = LinuxConstants.O_RDONLY | LinuxConstants.O_PATH | LinuxConstants.O_DIRECTORY
            | LinuxConstants.O_NOFOLLOW | LinuxConstants.O_NONBLOCK | LinuxConstants.O_CLOEXEC;

    /**
     * A rootless copy's reader: an init in the user namespace open at {@code usernsFd} in the monitor (the runtime's
     * shared one; -1: a new one, whose maps are written between clone and go) becomes its root, which may read and
     * search what the namespace's ids own on the host (the container's other users' files), and answers the JVM's
     * open requests on {@code socketFd} ({@link OpCode#OPEN_FILES}) until the JVM closes its end; then it exits 0.
     * Only reading opens are allowed, each resolved with {@code RESOLVE_NO_MAGICLINKS} and {@code RESOLVE_BENEATH}
     * or {@code RESOLVE_IN_ROOT} below the directory fd the JVM sends with it. It clones no other namespace: it
     * resolves only below the fds it is sent.
     */
    public static Plan openFiles(boolean setgroups, int usernsFd, int socketFd) {
        List<Op> ops = new ArrayList<>();
        ops.add(Op.clone(usernsFd < 0 ? LinuxConstants.CLONE_NEWUSER : 0, -1, usernsFd));
        ops.add(Op.of(OpCode.PDEATHSIG, SIGKILL));
        ops.add(Op.of(OpCode.WAIT_GO));
        if (setgroups) {
            ops.add(Op.setgroups(List.of()));
        }
        ops.add(Op.of(OpCode.SETGID, 0L));
        ops.add(Op.of(OpCode.SETUID, 0L));
        ops.add(Op.of(OpCode.OPEN_FILES, (long) socketFd, OPEN_FILES_ALLOWED, LinuxConstants.RESOLVE_NO_MAGICLINKS,
                LinuxConstants.RESOLVE_BENEATH | LinuxConstants.RESOLVE_IN_ROOT));
        return new Plan(ops);
    }

    /**
     * {@link #holdRoot} of a rootless container: the holder clones a user namespace with its mount namespace, waits
     * for the maps (written between {@code C(pid)} and go), becomes its root, mounts the root as the container's
     * init did (an overlay with {@code userxattr}, or a bind), then stops at a {@link OpCode#SYNC} whose go never
     * comes: the JVM takes the sync report as "mounted"; closing the control socket makes the monitor kill it.
     */
    public static Plan holdRootRootless(RootSource root, boolean setgroups) {
        return holdRootRootless(root, setgroups, -1);
    }

    /**
     * {@link #holdRootRootless(RootSource, boolean)} with its mount namespace in the user namespace open at
     * {@code usernsFd} in the monitor (the runtime's shared one, already mapped; -1: a new one).
     */
    public static Plan holdRootRootless(RootSource root, boolean setgroups, int usernsFd) {
        List<Op> ops = new ArrayList<>();
        ops.add(Op.clone((usernsFd < 0 ? LinuxConstants.CLONE_NEWUSER : 0) | Namespace.MOUNT.cloneFlag(), -1,
                usernsFd));
        ops.add(Op.of(OpCode.PDEATHSIG, SIGKILL));
        ops.add(Op.of(OpCode.WAIT_GO));
        ops.add(Op.mount("", "/", "", MS_REC | MS_PRIVATE, "", Op.RESOLVE_PLAIN));
        if (setgroups) {
            ops.add(Op.setgroups(List.of()));
        }
        ops.add(Op.of(OpCode.SETGID, 0L));
        ops.add(Op.of(OpCode.SETUID, 0L));
        if (root instanceof RootSource.Overlay o) {
            ops.add(Op.of(OpCode.CHDIR, o.linkDir()));
            ops.add(Op.mount("overlay", root.mountpoint(), "overlay", MS_NODEV, o.options() + ",userxattr",
                    Op.RESOLVE_PLAIN));
            ops.add(Op.of(OpCode.CHDIR, "/"));
        } else {
            ops.add(Op.mount(root.mountpoint(), root.mountpoint(), "", MS_BIND | MS_REC, "", Op.RESOLVE_PLAIN));
        }
        ops.add(Op.of(OpCode.SYNC));
        return new Plan(ops);
    }

    /** Mounts inside the new mount namespace, before pivot_root: nothing propagates to the host. */
    private static void rootfs(List<Op> ops, ContainerSpec spec, RootSource root, MountSources mounts,
            ContainerView view, UserNsPlan userns, boolean ownNetwork) {
        long noSym = Op.RESOLVE_IN_ROOT_NO_SYMLINKS;
        String rootfs = root.mountpoint();
        List<ContainerView.FileMount> files = shownFiles(spec, view);
        UserNsPlan.Rootless rootless = userns == null ? null : userns.rootless();
        if (userns == null) {
            mountRoot(ops, root);
            ops.add(Op.of(OpCode.OPEN_ROOT, rootfs));
        } else if (rootless != null) {
            // Rootless: the init is the namespace's root (its maps are written) and mounts the root itself, in its
            // own mount namespace: the layers' listed owners given first (nothing may use a layer mid-chown), then
            // an overlay with userxattr (whiteouts and opaque directories a rootless store keeps in user.*
            // xattrs), or a bind of the directory
            ops.add(Op.mount("", "/", "", MS_REC | MS_PRIVATE, "", Op.RESOLVE_PLAIN));
            if (rootless.setgroups()) {
                ops.add(Op.setgroups(List.of()));
            }
            ops.add(Op.of(OpCode.SETGID, 0L));
            ops.add(Op.of(OpCode.SETUID, 0L));
            ops.addAll(rootless.layerOwners());
            if (root instanceof RootSource.Overlay o) {
                ops.add(Op.of(OpCode.CHDIR, o.linkDir()));
                ops.add(Op.mount("overlay", rootfs, "overlay", MS_NODEV, o.options() + ",userxattr", Op.RESOLVE_PLAIN));
                ops.add(Op.of(OpCode.CHDIR, "/"));
            } else {
                ops.add(Op.mount(rootfs, rootfs, "", MS_BIND | MS_REC, "", Op.RESOLVE_PLAIN));
            }
            ops.add(Op.of(OpCode.OPEN_ROOT, rootfs));
        } else {
            // The root comes from the JVM (made after the maps, idmapped): moved onto its mount point while the
            // init still has the host root's uid, which owns the directories above it; then the init becomes the
            // namespace's root, so that what it makes is owned by the mapped root and its tmpfs mounts take it
            ops.add(Op.mount("", "/", "", MS_REC | MS_PRIVATE, "", Op.RESOLVE_PLAIN));
            ops.add(Op.of(OpCode.RECV_MOUNT, (long) userns.treeSocketFd(), rootfs, Op.RESOLVE_PLAIN,
                    files.isEmpty() ? 1L : 0L));
            ops.add(Op.of(OpCode.OPEN_ROOT, rootfs));
            ops.add(Op.setgroups(List.of()));
            ops.add(Op.of(OpCode.SETGID, 0L));
            ops.add(Op.of(OpCode.SETUID, 0L));
        }
        if (mounts.populateFirst()) {
            ops.add(Op.of(OpCode.SYNC)); // the JVM fills new volumes from the image's content, untouched yet
        }
        ops.add(Op.of(OpCode.MKDIR, "/proc", 0555L));
        if (userns == null || spec.namespaces().contains(Namespace.PID)) {
            ops.add(Op.mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, "", noSym));
        } else {
            // a procfs belongs to a PID namespace the user namespace owns: the host's, as rootless podman binds it
            ops.add(Op.mount("/proc", "/proc", "", MS_BIND | MS_REC, "", noSym));
        }
        ops.add(Op.of(OpCode.MKDIR, "/sys", 0555L));
        if (userns == null || ownNetwork) {
            ops.add(Op.mount("sysfs", "/sys", "sysfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, "", noSym));
        } else {
            // sysfs may be mounted only by the owner of the network namespace: the host's, bound read-only
            ops.add(Op.mount("/sys", "/sys", "", MS_BIND | MS_REC, "", noSym));
            ops.add(Op.mount("", "/sys", "", READ_ONLY_REMOUNT, "", noSym).keepingFlags());
        }
        ops.add(Op.of(OpCode.MKDIR, "/dev", 0755L));
        // the one writable mount where device nodes work: it holds only the nodes made here
        ops.add(Op.mount("tmpfs", "/dev", "tmpfs", MS_NOSUID | MS_STRICTATIME, "mode=755,size=65536k", noSym));
        for (Device d : deviceNodes(spec)) {
            String parent = d.path().substring(0, d.path().lastIndexOf('/'));
            if (!parent.equals("/dev")) {
                ops.add(Op.of(OpCode.MKDIR, parent, 0755L));
            }
            if (userns != null) {
                // mknod is refused in a user namespace: the host's node (checked by the JVM) bound onto an empty
                // file, as runc does; the device policy still decides whether it opens
                ops.add(Op.of(OpCode.MKFILE, d.path(), 0L));
                ops.add(Op.mount(userns.deviceSources().getOrDefault(d.path(), d.path()), d.path(), "", MS_BIND, "",
                        noSym));
                continue;
            }
            long kind = d.type() == DeviceRule.Type.BLOCK ? S_IFBLK : S_IFCHR;
            ops.add(Op.of(OpCode.MKNOD, d.path(), kind | d.fileMode(), d.major(), d.minor()));
            if (d.uid() != 0 || d.gid() != 0) {
                ops.add(Op.of(OpCode.CHOWN, d.path(), d.uid(), d.gid()));
            }
        }
        ops.add(Op.of(OpCode.MKDIR, "/dev/pts", 0755L));
        ops.add(Op.mount("devpts", "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC,
                "newinstance,ptmxmode=0666,mode=0620" + (userns == null || userns.ptyGroupMapped() ? ",gid=5" : ""),
                noSym));
        ops.add(Op.of(OpCode.SYMLINK, "pts/ptmx", "/dev/ptmx"));
        if (spec.tty()) {
            ops.add(Op.of(OpCode.MKFILE, CONSOLE, 0600L)); // the mount point of the pty (TTY_OPEN)
        }
        ops.add(Op.of(OpCode.SYMLINK, "/proc/self/fd", "/dev/fd"));
        ops.add(Op.of(OpCode.SYMLINK, "/proc/self/fd/0", "/dev/stdin"));
        ops.add(Op.of(OpCode.SYMLINK, "/proc/self/fd/1", "/dev/stdout"));
        ops.add(Op.of(OpCode.SYMLINK, "/proc/self/fd/2", "/dev/stderr"));
        ops.add(Op.of(OpCode.SYMLINK, "/proc/kcore", "/dev/core"));
        ops.add(Op.of(OpCode.MKDIR, "/dev/shm", 01777L));
        ops.add(Op.mount("shm", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=1777,size=65536k", noSym));
        ops.add(Op.of(OpCode.MKDIR, "/dev/mqueue", 0755L));
        if (userns == null || spec.namespaces().contains(Namespace.IPC)) {
            ops.add(Op.mount("mqueue", "/dev/mqueue", "mqueue", MS_NOSUID | MS_NODEV | MS_NOEXEC, "", noSym));
        } else {
            // an mqueue belongs to an IPC namespace the user namespace owns: the host's, bound where it has one
            ops.add(Op.mount("/dev/mqueue", "/dev/mqueue", "", MS_BIND | MS_REC, "", noSym).optional());
        }
        cgroupView(ops, view.cgroups());
        userMounts(ops, spec, mounts);
        generatedFiles(ops, files, view, userns);
        // nodev: a node the image shipped or the container made on its root never opens;
        // read-only last, once every mount point exists. In a user namespace by the root's fd ("/" in root):
        // the init may not reach its host path any more
        long remount = MS_BIND | MS_REMOUNT | MS_NODEV | (spec.readonlyRootfs() ? MS_RDONLY : 0);
        ops.add((userns == null ? Op.mount("", rootfs, "", remount, "", Op.RESOLVE_PLAIN)
                : Op.mount("", "/", "", remount, "", Op.RESOLVE_IN_ROOT)).keepingFlags());
    }

    /**
     * The spec's mounts, parents before children (docker's order: fewer path components first),
     * after the container's own: each mount point made in the root (a file for a file's bind),
     * then the detached tree moved onto it or the tmpfs mounted, the target resolved inside the
     * root so that a symlink of the image cannot send it out.
     */
    private static void userMounts(List<Op> ops, ContainerSpec spec, MountSources sources) {
        List<Integer> order = new ArrayList<>();
        for (int i = 0; i < spec.mounts().size(); i++) {
            order.add(i);
        }
        order.sort(Comparator.comparingInt(i -> spec.mounts().get(i).destination().split("/").length));
        for (int i : order) {
            Mount m = spec.mounts().get(i);
            String dst = m.destination();
            if (m.type() == Mount.Type.TMPFS) {
                MountOptions o = MountOptions.parse(m.type(), m.options());
                ops.add(Op.of(OpCode.MKDIR, dst, 0755L));
                ops.add(onProcfsIfListed(dst,
                        Op.mount("tmpfs", dst, "tmpfs", o.tmpfsFlags(), o.tmpfsData(), Op.RESOLVE_IN_ROOT)));
                continue;
            }
            if (i >= sources.sources().size() || sources.sources().get(i).fd() < 0
                    && sources.sources().get(i).hostPath() == null) {
                throw new IllegalArgumentException("mounts[" + i + "]: a " + m.type().ociName()
                        + " mount needs its detached tree's fd");
            }
            MountSources.Source s = sources.sources().get(i);
            ops.add(s.file() ? Op.of(OpCode.MKFILE, dst, 0644L) : Op.of(OpCode.MKDIR, dst, 0755L));
            if (s.hostPath() != null) {
                bindByPath(ops, s.hostPath(), dst, MountOptions.parse(m.type(), m.options()));
                continue;
            }
            ops.add(onProcfsIfListed(dst, Op.of(OpCode.MOVE_MOUNT, (long) s.fd(), dst)));
        }
    }

    /**
     * A rootless container's bind or volume: the host path bound by the init (an unprivileged JVM cannot clone a
     * tree), its attributes set by a remount that keeps the flags the kernel locked, then its propagation.
     */
    private static void bindByPath(List<Op> ops, String source, String dst, MountOptions o) {
        ops.add(onProcfsIfListed(dst, Op.mount(source, dst, "", MS_BIND | (o.recursive() ? MS_REC : 0), "",
                Op.RESOLVE_IN_ROOT)));
        long flags = ((o.attributes() & MountOptions.ATTR_RDONLY) != 0 ? MS_RDONLY : 0)
                | ((o.attributes() & MountOptions.ATTR_NOSUID) != 0 ? MS_NOSUID : 0)
                | ((o.attributes() & MountOptions.ATTR_NODEV) != 0 ? MS_NODEV : 0)
                | ((o.attributes() & MountOptions.ATTR_NOEXEC) != 0 ? MS_NOEXEC : 0);
        if (flags != 0 && o.recursive()) {
            // a recursive bind carries the host's submounts (say /dev/shm below /dev): "ro" must hold for them
            // too, as the rootful path's mount_setattr(AT_RECURSIVE) makes it; a remount would reach the top only
            ops.add(onProcfsIfListed(dst, Op.of(OpCode.MOUNT_SETATTR, dst, o.attributes(), Op.RESOLVE_IN_ROOT)));
        } else if (flags != 0) {
            ops.add(onProcfsIfListed(dst, Op.mount("", dst, "", MS_BIND | MS_REMOUNT | flags, "", Op.RESOLVE_IN_ROOT))
                    .keepingFlags());
        }
        ops.add(onProcfsIfListed(dst, Op.mount("", dst, "", o.propagation() | (o.propagationRecursive() ? MS_REC : 0),
                "", Op.RESOLVE_IN_ROOT)));
    }

    /**
     * A spec mount may land on procfs only where its destination names one of the files runc
     * allows there ({@link Mount#PROCFS_DESTINATIONS}, lxcfs's); anywhere else the init refuses a
     * target that resolves onto procfs, such as {@code /data} where the image made it a symlink
     * to {@code /proc}.
     */
    private static Op onProcfsIfListed(String destination, Op mount) {
        return Mount.PROCFS_DESTINATIONS.contains(destination) ? mount : mount.notOnProcfs();
    }

    /** Where the container finds its own cgroup. */
    static final String CGROUP_ROOT = "/sys/fs/cgroup";

    private static final long READ_ONLY_REMOUNT = MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC;

    /**
     * The container's own cgroup at /sys/fs/cgroup, read-only, bound from the host before
     * pivot_root. Every target below /sys is one this plan mounted, so no symlink is followed there.
     */
    private static void cgroupView(List<Op> ops, ContainerView.CgroupView cg) {
        long noSym = Op.RESOLVE_IN_ROOT_NO_SYMLINKS;
        if (cg.v2Root() != null) {
            ops.add(Op.mount(cg.v2Root(), CGROUP_ROOT, "", MS_BIND, "", noSym));
            ops.add(Op.mount("", CGROUP_ROOT, "", READ_ONLY_REMOUNT, "", noSym));
        } else if (!cg.hierarchies().isEmpty()) {
            ops.add(Op.mount("tmpfs", CGROUP_ROOT, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=755,size=64k", noSym));
            for (ContainerView.CgroupView.Hierarchy h : cg.hierarchies()) {
                String at = CGROUP_ROOT + "/" + h.name();
                ops.add(Op.of(OpCode.MKDIR, at, 0755L));
                ops.add(Op.mount(h.source(), at, "", MS_BIND, "", noSym));
                ops.add(Op.mount("", at, "", READ_ONLY_REMOUNT, "", noSym));
                for (String alias : h.aliases()) {
                    ops.add(Op.of(OpCode.SYMLINK, h.name(), CGROUP_ROOT + "/" + alias));
                }
            }
            ops.add(Op.mount("", CGROUP_ROOT, "", READ_ONLY_REMOUNT, "", noSym));
        }
    }

    /**
     * The generated /etc files, after the spec's mounts so that they also show on a volume or bind
     * mounted at /etc (as docker's do); a file the spec mounts itself at the same path is the
     * user's, and the generated one is left out. A file's target resolves in the root (an image's
     * /etc/resolv.conf may be a symlink to another file of it).
     */
    private static void generatedFiles(List<Op> ops, List<ContainerView.FileMount> files, ContainerView view,
            UserNsPlan userns) {
        for (int i = 0; i < files.size(); i++) {
            ContainerView.FileMount f = files.get(i);
            if (view.rootWritable()) {
                ops.add(Op.of(OpCode.MKFILE, f.target(), 0644L));
            }
            // optional: on a read-only root without the file, or through a dangling symlink, it is left out;
            // in a user namespace the JVM sends the file's tree (the state directory is closed to the init)
            ops.add((userns == null || userns.rootless() != null
                    ? Op.mount(f.source(), f.target(), "", MS_BIND, "", Op.RESOLVE_IN_ROOT)
                    : Op.of(OpCode.RECV_MOUNT, (long) userns.treeSocketFd(), f.target(), Op.RESOLVE_IN_ROOT,
                            i == files.size() - 1 ? 1L : 0L)).optional().notOnProcfs());
        }
    }

    /** The generated /etc files the container is shown: those whose path the spec mounts nothing on itself. */
    public static List<ContainerView.FileMount> shownFiles(ContainerSpec spec, ContainerView view) {
        Set<String> userTargets = new HashSet<>();
        for (Mount m : spec.mounts()) {
            userTargets.add(m.destination());
        }
        return view.files().stream().filter(f -> !userTargets.contains(f.target())).toList();
    }

    /**
     * The target's own steps between fork and exec: identity, capabilities, then exec. The same steps
     * run in a process exec'd into the container ({@link #enter}).
     *
     * @param dieWithParent whether the target gets SIGKILL when its parent ends, whatever the
     *                      namespaces (an exec'd process, whose parent is its monitor)
     */
    private static void target(List<Op> ops, TargetPolicy policy, boolean tty, ProcessPlan process,
            boolean dieWithParent) {
        ResolvedUser user = process.user();
        long caps = Capability.mask(policy.capabilities());
        boolean root = user.uid() == 0;
        ops.add(Op.of(OpCode.SETSID));
        if (tty) {
            // a session leader without a terminal: the pty becomes its controlling terminal
            ops.add(Op.of(OpCode.TTY_ATTACH, user.uid()));
        }
        if (!policy.noNewPrivileges()) {
            // without no_new_privs, loading a filter needs CAP_SYS_ADMIN, which the drop below takes away:
            // the filter comes first (as runc does), and it must then allow the steps up to the exec
            seccomp(ops, process);
        }
        ops.add(Op.of(OpCode.CAP_BOUNDING, caps));
        if (!root) {
            ops.add(Op.of(OpCode.KEEPCAPS, 1L));
        }
        ops.add(Op.setgroups(user.additionalGids()));
        ops.add(Op.of(OpCode.SETGID, user.gid()));
        ops.add(Op.of(OpCode.SETUID, user.uid()));
        if (!root) {
            ops.add(Op.of(OpCode.KEEPCAPS, 0L));
        }
        // Docker semantics: root gets the set as effective and permitted; other users only
        // keep it as their bounding set. Inheritable and ambient stay empty.
        long active = root ? caps : 0;
        ops.add(Op.of(OpCode.CAPSET, active, active, 0L));
        ops.add(Op.of(OpCode.AMBIENT, 0L));
        if (policy.noNewPrivileges()) {
            ops.add(Op.of(OpCode.NO_NEW_PRIVS));
        }
        if (dieWithParent || !policy.ownPidNamespace()) {
            // Without a PID namespace of its own, killing the init does not take the target with it.
            // Set after the uid change, which clears the parent-death signal.
            ops.add(Op.of(OpCode.PDEATHSIG, SIGKILL));
        }
        ops.add(Op.of(OpCode.CHDIR, process.cwd()));
        if (policy.noNewPrivileges()) {
            // last before the exec, after no_new_privs: the filter sees as few of the init's own syscalls as
            // can be (the exec report's write, execve); the init is single-threaded, so no TSYNC
            seccomp(ops, process);
        }
        ops.add(Op.exec(process.argv(), process.env()));
    }

    private static void seccomp(List<Op> ops, ProcessPlan process) {
        process.seccomp().ifPresent(f -> ops.add(Op.seccomp(f.name(), f.program())));
    }

    private static void rlimits(List<Op> ops, List<ExecProfile.Limit> limits) {
        for (ExecProfile.Limit r : limits) {
            ops.add(Op.setrlimit(r.resource(), r.soft(), r.hard(), r.name()));
        }
    }

    /**
     * The plan of a process run in a running container (exec). The monitor turns non-dumpable,
     * enters the container's namespaces through a pidfd of its init ({@code ENTER}; the PID namespace
     * for its children) and clones the process, into the container's v2 cgroup where it can. That
     * process joins the container's other cgroups before anything else, then its cgroup namespace
     * (after the joins: a cgroup namespace limits which cgroups one can move between), takes the
     * container's resource limits and, with a terminal, a pty of the container's own devpts; then the
     * same target steps as the container's own process, ending in exec.
     *
     * @param initPidfd where the monitor finds the pidfd of the container's init
     * @param rootFd    where it finds the init's root ({@code /proc/PID/root}, opened while the pidfd's
     *                  process lived): the root it takes after setns, the mount namespace's own root
     *                  not always being the init's (a runtime in a chroot)
     * @param what      names the init in errors, e.g. {@code container web-1's init (pid 4242)}
     * @param cgroups   the container's cgroups, by fd in the monitor
     * @param terminal  the size of the process's own pty, or null for none
     */
    public static Plan enter(ExecProfile profile, int initPidfd, int rootFd, String what, CgroupPlacement cgroups,
            TerminalSize terminal, ProcessPlan process) {
        return enter(profile, initPidfd, rootFd, what, cgroups, terminal, process, -1);
    }

    /**
     * @param cgroupNsFd an fd of the init's cgroup namespace ({@code /proc/PID/ns/cgroup}, opened by the JVM), or -1
     *                   to enter it through the pidfd. In a user namespace the entered process may not use the
     *                   pidfd any more: the init is non-dumpable and its memory the host's, so the kernel's ptrace
     *                   check behind a pidfd's setns refuses the namespace's root; an fd of the namespace itself
     *                   needs no such check
     */
    public static Plan enter(ExecProfile profile, int initPidfd, int rootFd, String what, CgroupPlacement cgroups,
            TerminalSize terminal, ProcessPlan process, int cgroupNsFd) {
        List<Op> ops = new ArrayList<>();
        long flags = profile.userNamespace() ? LinuxConstants.CLONE_NEWUSER : 0;
        List<String> names = new ArrayList<>();
        if (profile.userNamespace()) {
            names.add("user"); // entered first by setns: the others are its own
        }
        for (Namespace ns : Namespace.values()) {
            if (profile.namespaces().contains(ns) && ns != Namespace.CGROUP) {
                flags |= ns.cloneFlag();
                names.add(nsName(ns));
            }
        }
        long cgroupNs = profile.namespaces().contains(Namespace.CGROUP) ? Namespace.CGROUP.cloneFlag() : 0;
        ops.add(Op.of(OpCode.ENTER, (long) initPidfd, flags, (long) rootFd,
                "pidfd of " + what + ", " + String.join("|", names)));
        ops.add(Op.clone(0, cgroups.cloneIntoFd()));
        ops.add(Op.of(OpCode.PDEATHSIG, SIGKILL));
        ops.add(Op.of(OpCode.WAIT_GO));
        for (CgroupPlacement.Join j : cgroups.joins()) {
            ops.add(Op.writeFd(j.fd(), "0", j.path()));
        }
        if (cgroupNsFd >= 0) {
            ops.add(Op.of(OpCode.SETNS, (long) cgroupNsFd, cgroupNs, "cgroup namespace of " + what));
            ops.add(Op.of(OpCode.SETNS, (long) initPidfd, 0L, "pidfd of " + what)); // closes it
        } else {
            // also when the container shares the host's cgroup namespace: the op closes the pidfd
            ops.add(Op.of(OpCode.SETNS, (long) initPidfd, cgroupNs, "pidfd of " + what + ", cgroup"));
        }
        if (profile.userNamespace()) {
            // the namespace's root before anything is made (a pty's owner must be mapped to be changed)
            ops.add(Op.setgroups(List.of()));
            ops.add(Op.of(OpCode.SETGID, 0L));
            ops.add(Op.of(OpCode.SETUID, 0L));
        }
        ops.add(Op.of(OpCode.UMASK, 0022L));
        rlimits(ops, profile.rlimits());
        if (terminal != null) {
            // no console path: the pty is the process's alone, /dev/pts/N of the container's devpts
            ops.add(Op.of(OpCode.TTY_OPEN, (long) terminal.rows(), (long) terminal.columns(), ""));
        }
        target(ops, profile.target(), terminal != null, process, true);
        return new Plan(ops);
    }

    private static String nsName(Namespace ns) {
        return switch (ns) {
            case MOUNT -> "mnt";
            case PID -> "pid";
            case UTS -> "uts";
            case IPC -> "ipc";
            case NETWORK -> "net";
            case CGROUP -> "cgroup";
        };
    }

    /** PID 1 keeps only what forwarding signals needs, and cannot be ptraced or dumped. */
    private static void initTail(List<Op> ops) {
        long kill = Capability.mask(EnumSet.of(Capability.KILL));
        ops.add(Op.of(OpCode.CAP_BOUNDING, kill));
        ops.add(Op.of(OpCode.CAPSET, kill, kill, 0L));
        ops.add(Op.of(OpCode.NO_NEW_PRIVS));
        ops.add(Op.of(OpCode.DUMPABLE, 0L));
        ops.add(Op.of(OpCode.REAP));
    }
}
