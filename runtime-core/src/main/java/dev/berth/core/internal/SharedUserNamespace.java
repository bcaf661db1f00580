package dev.berth.core.internal;

import dev.berth.core.ContainerStartException;
import dev.berth.core.UserNamespace;
import dev.berth.core.internal.plan.PlanCompiler;
import dev.berth.core.internal.sys.Syscalls;

/**
 * A rootless runtime's user namespace for the user's mapping (0 to the user, 1..N to its subordinate range), made
 * once and joined by every container the runtime starts with that mapping, as rootless podman's containers share
 * its pause process's namespace. Writing a namespace's maps takes the setuid tools {@code newuidmap} and
 * {@code newgidmap}, two execs that cost a rootless start most of its time when every container gets a namespace
 * of its own; a joined namespace is already mapped. The monitor clones the init into it (CLONE's user namespace
 * fd: a short-lived child of the monitor joins it, so that the monitor itself stays in the host's).
 *
 * <p>It is held as an open nsfs file: the namespace lives as long as this fd or any process in it, and no process
 * is kept for it. Sharing it changes no container's view: each still has its own mount, PID, IPC, UTS, network
 * and cgroup namespaces (owned by this one), and the same ids as a namespace of its own with the same mapping
 * would give it; a process of one container reaches another's only through those namespaces, which it cannot
 * name. A mapping that changed since (an edited {@code /etc/subuid}) gets a new namespace; containers already
 * started keep theirs.
 */
public final class SharedUserNamespace implements AutoCloseable {
    private final Syscalls sys;
    private final Launcher launcher;
    private UserNamespace mapping; // what the namespace at fd maps
    private int fd = -1;
    private boolean closed;

    public SharedUserNamespace(Syscalls sys, Launcher launcher) {
        this.sys = sys;
        this.launcher = launcher;
    }

    /**
     * A new fd of the namespace for {@code mapping}, which the caller closes (a plan hands it to the monitor):
     * made on first use, and again when the mapping is not the one held.
     */
    public synchronized int open(RootlessStart rootless, UserNamespace mapping) throws ContainerStartException {
        if (closed) {
            throw new ContainerStartException("rootless: the runtime is closed");
        }
        if (fd < 0 || !mapping.equals(this.mapping)) {
            int made = create(rootless, mapping);
            if (fd >= 0) {
                sys.close(fd);
            }
            fd = made;
            this.mapping = mapping;
        }
        return sys.dup(fd);
    }

    /** The mapping the held namespace has, if one is held. */
    public synchronized java.util.Optional<UserNamespace> mapping() {
        return fd < 0 ? java.util.Optional.empty() : java.util.Optional.of(mapping);
    }

    /**
     * Clones a process into a new user namespace, has its maps written, opens the namespace while the process waits
     * for its go, then lets it end.
     */
    private int create(RootlessStart rootless, UserNamespace mapping) throws ContainerStartException {
        int[] made = {-1};
        try {
            launcher.runToEnd("the runtime's user namespace", PlanCompiler.userNamespace(), (initPid, monitorPid) -> {
                rootless.writeMaps(sys, initPid, mapping);
                String path = "/proc/" + initPid + "/ns/user";
                made[0] = sys.open(path, Syscalls.O_RDONLY | Syscalls.O_CLOEXEC, 0);
            });
        } catch (RuntimeException e) { // ContainerStartException too (unchecked)
            if (made[0] >= 0) {
                sys.close(made[0]);
            }
            throw e;
        }
        return made[0];
    }

    @Override
    public synchronized void close() {
        closed = true;
        if (fd >= 0) {
            sys.close(fd);
            fd = -1;
        }
    }
}
