package dev.berth.core.internal.preflight;

import dev.berth.core.Preflight.Status;
import dev.berth.core.internal.sys.SyscallException;
import dev.berth.core.internal.sys.Syscalls;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * The idmapped-mount probe: a detached copy ({@code open_tree(OPEN_TREE_CLONE)}) of a temporary
 * directory on the storage root's file system gets {@code mount_setattr(MOUNT_ATTR_IDMAP)} with the
 * user namespace of a short-lived process. The JVM never forks, so that process is an existing
 * binary, spawned: {@code unshare --user --map-root-user sleep 5} (util-linux), killed by its pid
 * afterwards. As root the directory is given to uid {@value #PROBE_ID} first: seen through the
 * copy, whose namespace maps uid 0 alone, it must show as the overflow uid, which proves the
 * mapping took effect. The copy is never attached anywhere, and closing its fd drops it.
 */
final class IdmapProbe {
    /** An id the probe's namespace does not map. */
    static final int PROBE_ID = 1234;
    private static final long READY_MILLIS = 3000;

    private final Syscalls sys;

    IdmapProbe(Syscalls sys) {
        this.sys = sys;
    }

    HostFacts.Probe run(Path storageRoot, Path unshare, boolean root) {
        Path dir = storageRoot;
        while (dir != null && !Files.isDirectory(dir)) {
            dir = dir.getParent();
        }
        if (dir == null) {
            return new HostFacts.Probe(Status.UNKNOWN, "no existing directory on the way to " + storageRoot, null);
        }
        Path tmp = null;
        Process holder = null;
        int userns = -1;
        int tree = -1;
        try {
            try {
                tmp = Files.createTempDirectory(dir, ".berth-preflight-");
                if (root) {
                    Files.setAttribute(tmp, "unix:uid", PROBE_ID, LinkOption.NOFOLLOW_LINKS);
                    Files.setAttribute(tmp, "unix:gid", PROBE_ID, LinkOption.NOFOLLOW_LINKS);
                }
            } catch (IOException | UnsupportedOperationException e) {
                tmp = null; // not writable here (rootless): probe the directory itself, unverified
            }
            Path target = tmp != null ? tmp : dir;
            String fsType = fsType(target);
            try {
                holder = new ProcessBuilder(unshare.toString(), "--user", "--map-root-user", "sleep", "5")
                        .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                        .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                        .redirectErrorStream(false)
                        .start();
            } catch (IOException e) {
                return new HostFacts.Probe(Status.UNKNOWN, "could not start " + unshare + ": " + e.getMessage(),
                        "install util-linux (unshare)");
            }
            String notReady = awaitNamespace(holder);
            if (notReady != null) {
                return new HostFacts.Probe(Status.UNKNOWN, "no user namespace to map with: " + notReady,
                        "enable user namespaces (see userNamespaces)");
            }
            userns = sys.open("/proc/" + holder.pid() + "/ns/user", Syscalls.O_RDONLY | Syscalls.O_CLOEXEC, 0);
            try {
                tree = sys.openTree(Syscalls.AT_FDCWD, target.toString(), Syscalls.OPEN_TREE_CLONE
                        | Syscalls.OPEN_TREE_CLOEXEC, target.toString());
                sys.mountSetattrIdmap(tree, userns, target.toString());
            } catch (SyscallException e) {
                return failed(e, fsType, dir, root);
            }
            String where = fsType + " (" + dir + ")";
            if (tmp == null || !root) {
                return new HostFacts.Probe(Status.OK, "mount_setattr(MOUNT_ATTR_IDMAP) accepted on " + where, null);
            }
            int seen = (Integer) Files.getAttribute(Path.of("/proc/self/fd/" + tree), "unix:uid");
            if (seen == PROBE_ID) {
                return new HostFacts.Probe(Status.MISSING, "mount_setattr(MOUNT_ATTR_IDMAP) on " + where
                        + " succeeded, but uid " + PROBE_ID + " still shows as " + seen + " through the mount",
                        "use a kernel whose idmapped mounts work (Linux 5.12+) for shared layers across mappings");
            }
            return new HostFacts.Probe(Status.OK, "works on " + where + ": uid " + PROBE_ID
                    + " shows as " + seen + " through a mount mapping uid 0 alone", null);
        } catch (IOException | RuntimeException e) {
            return new HostFacts.Probe(Status.UNKNOWN, "probe failed: " + e.getMessage(), null);
        } finally {
            if (tree >= 0) {
                sys.close(tree); // the detached copy goes with its last fd
            }
            if (userns >= 0) {
                sys.close(userns);
            }
            if (holder != null) {
                holder.destroyForcibly(); // SIGKILL to that pid; the JDK reaps it
                try {
                    holder.waitFor(5, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                try {
                    holder.getErrorStream().close(); // its stderr pipe (the JDK closes it too, once the process is reaped)
                } catch (IOException e) {
                    // closed already
                }
            }
            if (tmp != null) {
                try {
                    Files.deleteIfExists(tmp);
                } catch (IOException e) {
                    // left: a hidden empty directory, named for what it was
                }
            }
        }
    }

    /**
     * Waits until the holder runs {@code sleep} (unshare has made the namespace and written its
     * maps before exec); null when ready, else why not.
     */
    private static String awaitNamespace(Process holder) throws IOException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(READY_MILLIS);
        Path proc = Path.of("/proc/" + holder.pid());
        String own = Files.readSymbolicLink(Path.of("/proc/self/ns/user")).toString();
        while (System.nanoTime() < deadline) {
            if (!holder.isAlive()) {
                String err = new String(holder.getErrorStream().readAllBytes(), StandardCharsets.UTF_8).strip();
                return "unshare --user --map-root-user exited with " + holder.exitValue()
                        + (err.isEmpty() ? "" : ": " + err.lines().findFirst().orElse(""));
            }
            try {
                String comm = Files.readString(proc.resolve("comm")).strip();
                String ns = Files.readSymbolicLink(proc.resolve("ns/user")).toString();
                if (comm.equals("sleep") && !ns.equals(own) && !Files.readString(proc.resolve("uid_map")).isBlank()) {
                    return null;
                }
            } catch (IOException e) {
                // exec'ing or ending: look again
            }
            try {
                Thread.sleep(5);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return "interrupted";
            }
        }
        return "unshare did not run sleep in a new user namespace within " + READY_MILLIS + " ms";
    }

    private HostFacts.Probe failed(SyscallException e, String fsType, Path dir, boolean root) {
        String what = e.getMessage();
        if (e.errno() == Syscalls.ENOSYS) {
            return new HostFacts.Probe(Status.MISSING, what + ": the kernel has no mount_setattr",
                    "use Linux 5.12 or later for idmapped mounts");
        }
        if (e.errno() == Syscalls.EPERM && !root) {
            return new HostFacts.Probe(Status.WARNING, what + ": an unprivileged user cannot idmap the host's"
                    + " file systems", "rootless containers use their own user namespace; idmapped layers need root");
        }
        if (e.errno() == Syscalls.EINVAL || e.errno() == Syscalls.EOPNOTSUPP) {
            return new HostFacts.Probe(Status.MISSING, what + ": " + fsType + " (" + dir
                    + ") does not support idmapped mounts", "put the storage root on ext4, xfs, btrfs or tmpfs");
        }
        return new HostFacts.Probe(Status.MISSING, what, null);
    }

    private static String fsType(Path p) {
        try {
            return Files.getFileStore(p).type();
        } catch (IOException e) {
            return "a file system";
        }
    }
}
