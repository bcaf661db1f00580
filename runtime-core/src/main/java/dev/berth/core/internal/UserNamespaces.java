package dev.berth.core.internal;

import dev.berth.core.ContainerStartException;
import dev.berth.core.IdMapping;
import dev.berth.core.UserNamespace;
import dev.berth.core.internal.plan.RootSource;
import dev.berth.core.internal.sys.SyscallException;
import dev.berth.core.internal.sys.Syscalls;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;

/**
 * The host side of a user-namespaced container's start, run by the JVM between the monitor's
 * {@code C(pid)} and its go (nothing here enters a namespace: the JVM stays where it is): the uid and
 * gid maps written to {@code /proc/PID/uid_map} and {@code gid_map}, and the container's root made as a
 * detached tree whose files show their owners through the container's mapping (idmapped mounts,
 * {@code MOUNT_ATTR_IDMAP} with {@code /proc/PID/ns/user}), handed to the init over a socket.
 */
public final class UserNamespaces {

    private UserNamespaces() {}

    /**
     * Refuses, before anything is made, a mapping that leaves out the container's root (uid and gid 0: the
     * init sets the container up as it) or the target user's uid, gid or additional groups: the kernel would
     * refuse their setresuid or show them as nobody.
     *
     * @param who names the user in errors, e.g. {@code user 1000} or {@code user app (uid 1000)}
     */
    public static void checkMapped(List<IdMapping> uidMap, List<IdMapping> gidMap, long uid, long gid,
            List<Long> groups, String who) throws ContainerStartException {
        if (!maps(uidMap, 0)) {
            throw new ContainerStartException("userNamespace: the uid map " + show(uidMap)
                    + " does not map the container's root (uid 0), which sets the container up");
        }
        if (!maps(gidMap, 0)) {
            throw new ContainerStartException("userNamespace: the gid map " + show(gidMap)
                    + " does not map the container's root group (gid 0), which sets the container up");
        }
        if (!maps(uidMap, uid)) {
            throw new ContainerStartException(who + ": not mapped by the container's uid map "
                    + show(uidMap));
        }
        if (!maps(gidMap, gid)) {
            throw new ContainerStartException(who + ": group " + gid + " not mapped by the container's gid map "
                    + show(gidMap));
        }
        for (long g : groups) {
            if (!maps(gidMap, g)) {
                throw new ContainerStartException(who + ": additional group " + g + " not mapped by the container's"
                        + " gid map " + show(gidMap));
            }
        }
    }

    static boolean maps(List<IdMapping> map, long id) {
        return map.stream().anyMatch(m -> id >= m.containerId() && id <= m.containerEnd());
    }

    private static String show(List<IdMapping> map) {
        return map.stream().map(IdMapping::toString).collect(Collectors.joining(","));
    }

    /** A running process's map as {@code /proc/PID/uid_map} (or {@code gid_map}) shows it. */
    public static List<IdMapping> readMap(java.nio.file.Path file) throws java.io.IOException {
        List<IdMapping> out = new ArrayList<>();
        for (String line : java.nio.file.Files.readAllLines(file)) {
            String[] f = line.trim().split("\\s+");
            if (f.length == 3) {
                out.add(IdMapping.of(Long.parseLong(f[0]), Long.parseLong(f[1]), Long.parseLong(f[2])));
            }
        }
        return out;
    }

    /** Writes the uid map, then the gid map, of the process {@code pid} (a new user namespace's first process). */
    public static void writeMaps(Syscalls sys, long pid, UserNamespace ns) throws ContainerStartException {
        writeMap(sys, "/proc/" + pid + "/uid_map", ns.uidMap());
        writeMap(sys, "/proc/" + pid + "/gid_map", ns.gidMap());
    }

    /** The map's text as the kernel reads it, one line per mapping; shown in errors with its lines joined by "\n". */
    static void writeMap(Syscalls sys, String path, List<IdMapping> map) throws ContainerStartException {
        String shown = map.stream().map(IdMapping::toMapLine).collect(Collectors.joining("\\n"));
        byte[] text = (map.stream().map(IdMapping::toMapLine).collect(Collectors.joining("\n")) + "\n")
                .getBytes(StandardCharsets.US_ASCII);
        int fd = -1;
        try {
            fd = sys.open(path, Syscalls.O_WRONLY | Syscalls.O_CLOEXEC, 0);
            // one write: the kernel takes a map in a single write and refuses a second one
            int n = sys.write(fd, text, 0, text.length);
            if (n != text.length) {
                throw new ContainerStartException("write(" + path + ", \"" + shown + "\"): short write (" + n + " of "
                        + text.length + " bytes)", "write", path, Syscalls.EIO, null);
            }
        } catch (SyscallException e) {
            throw new ContainerStartException(e.syscall() + "(" + path + ", \"" + shown + "\"): "
                    + sys.strerror(e.errno()), e.syscall(), path, e.errno(), e);
        } finally {
            if (fd >= 0) {
                sys.close(fd);
            }
        }
    }

    /**
     * The container's root as one detached tree whose files show through the container's mapping: for
     * an overlay, each lower layer (top first) idmapped ({@code open_tree(OPEN_TREE_CLONE)} +
     * {@code mount_setattr(MOUNT_ATTR_IDMAP)}) and an overlay of them made with the filesystem context API
     * ({@code lowerdir+} per layer, the upper and work directories owned by the mapped root), so that the
     * shared layers are never chowned or copied; for a directory, the directory's tree idmapped.
     * The caller owns the returned fd; everything else opened here is closed.
     *
     * @param upperAndWork the overlay's upper and work directories as absolute paths (ignored for a directory)
     */
    public static int idmappedRoot(Syscalls sys, long pid, RootSource root, List<String> lowerDirsTopFirst,
            String[] upperAndWork) throws ContainerStartException {
        String nsPath = "/proc/" + pid + "/ns/user";
        List<Integer> opened = new ArrayList<>();
        try {
            int userns = sys.open(nsPath, Syscalls.O_RDONLY | Syscalls.O_CLOEXEC, 0);
            opened.add(userns);
            if (root instanceof RootSource.Directory d) {
                return idmappedTree(sys, userns, d.path(), true);
            }
            int ctx = sys.fsopen("overlay", "overlay");
            opened.add(ctx);
            for (String lower : lowerDirsTopFirst) {
                int layer = idmappedTree(sys, userns, lower, false);
                opened.add(layer);
                sys.fsconfigString(ctx, "lowerdir+", "/proc/self/fd/" + layer, "overlay lowerdir+ " + lower);
            }
            sys.fsconfigString(ctx, "upperdir", upperAndWork[0], "overlay upperdir " + upperAndWork[0]);
            sys.fsconfigString(ctx, "workdir", upperAndWork[1], "overlay workdir " + upperAndWork[1]);
            sys.fsconfigCreate(ctx, "overlay, FSCONFIG_CMD_CREATE");
            return sys.fsmount(ctx, "overlay");
        } catch (SyscallException e) {
            throw new ContainerStartException(e.getMessage() + hint(e), e.syscall(), e.operand(), e.errno(), e);
        } finally {
            for (int fd : opened) {
                sys.close(fd);
            }
        }
    }

    /**
     * Idmaps detached trees the JVM already holds (spec mounts with {@code idmap}: opened before the spawn, handed
     * to the monitor, attached by the init only after the go) to the user namespace of {@code pid}.
     *
     * @param trees the tree fds in the JVM, each with the name errors give it, and whether it is recursive
     */
    public static void idmapTrees(Syscalls sys, long pid, List<IdmappedTree> trees) throws ContainerStartException {
        if (trees.isEmpty()) {
            return;
        }
        int userns = sys.open("/proc/" + pid + "/ns/user", Syscalls.O_RDONLY | Syscalls.O_CLOEXEC, 0);
        try {
            for (IdmappedTree t : trees) {
                sys.mountSetattrIdmap(t.fd(), t.recursive() ? Syscalls.AT_RECURSIVE : 0, userns, t.name());
            }
        } catch (SyscallException e) {
            throw new ContainerStartException(e.getMessage() + hint(e), e.syscall(), e.operand(), e.errno(), e);
        } finally {
            sys.close(userns);
        }
    }

    /** A spec mount's detached tree to idmap: its fd in the JVM, its name in errors, and whether it is recursive. */
    public record IdmappedTree(int fd, String name, boolean recursive) {}

    /** A detached copy of the tree at {@code path}, idmapped to the user namespace {@code userns}. */
    static int idmappedTree(Syscalls sys, int userns, String path, boolean recursive) {
        int tree = sys.openTree(Syscalls.AT_FDCWD, path, Syscalls.OPEN_TREE_CLONE | Syscalls.OPEN_TREE_CLOEXEC
                | (recursive ? Syscalls.AT_RECURSIVE : 0), path);
        try {
            sys.mountSetattrIdmap(tree, recursive ? Syscalls.AT_RECURSIVE : 0, userns, path);
            return tree;
        } catch (SyscallException e) {
            sys.close(tree);
            throw e;
        }
    }

    private static String hint(SyscallException e) {
        if (e.syscall().equals("mount_setattr") && (e.errno() == Syscalls.EINVAL || e.errno() == Syscalls.EOPNOTSUPP)) {
            return " (the filesystem of this directory cannot be idmapped (Linux 5.12+: ext4, xfs, btrfs, tmpfs"
                    + " 6.3+, overlayfs 5.19+ as a lower layer); a user-namespaced container needs it: its files would"
                    + " otherwise show wrong owners)";
        }
        if (e.syscall().equals("fsconfig") || e.syscall().equals("fsopen")) {
            return " (an overlay over idmapped layers needs Linux 5.19+, and lowerdir+ 6.8+)";
        }
        if (e.errno() == Syscalls.ENOSYS) {
            return " (idmapped mounts need open_tree, mount_setattr and fsopen: Linux 5.12+)";
        }
        return "";
    }
}
