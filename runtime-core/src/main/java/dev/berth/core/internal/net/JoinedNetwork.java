package dev.berth.core.internal.net;

import dev.berth.core.Container;
import dev.berth.core.ContainerStartException;
import dev.berth.core.ContainerStatus;
import dev.berth.core.internal.StateStore;
import dev.berth.core.internal.state.ProcessId;
import dev.berth.core.internal.state.StateDocument;
import dev.berth.core.internal.sys.SyscallException;
import dev.berth.core.internal.sys.Syscalls;
import java.io.UncheckedIOException;
import java.util.Map;
import java.util.Optional;

/**
 * The network namespace a {@code container:<id>} container joins: a pidfd of the other container's
 * init, which the plan's {@code SETNS} op enters with {@code CLONE_NEWNET}. The pidfd names one
 * process, checked (start time, berth-init) after it was opened, so a reused pid is never joined.
 */
public final class JoinedNetwork {
    private JoinedNetwork() {}

    /**
     * @param own this runtime's containers (running or ended, until closed); others are found by their state
     * @return a pidfd of the running container's init (the caller closes it)
     * @throws ContainerStartException naming the field {@code network} when there is no such running container
     */
    public static int pidfdOf(Syscalls sys, StateStore state, Map<String, Optional<Container>> own, String id)
            throws ContainerStartException {
        String what = "network: container:" + id;
        long pid;
        long startTime = -1;
        Optional<Container> c = own.getOrDefault(id, Optional.empty());
        if (c.isPresent()) {
            if (!c.get().isRunning()) {
                throw new ContainerStartException(what + ": the container is not running");
            }
            pid = c.get().pid();
        } else {
            Optional<StateDocument> doc;
            try {
                doc = StateStore.ID.matcher(id).matches() ? state.read(id) : Optional.empty();
            } catch (UncheckedIOException e) {
                throw new ContainerStartException(what + ": " + e.getMessage(), e);
            }
            if (doc.isEmpty() || doc.get().init() == null) {
                throw new ContainerStartException(what + ": no such container");
            }
            ContainerStatus s = doc.get().containerStatus();
            if (s != ContainerStatus.RUNNING && s != ContainerStatus.PAUSED) {
                throw new ContainerStartException(what + ": the container is not running (status " + s.label() + ")");
            }
            pid = doc.get().init().pid();
            startTime = doc.get().init().startTime();
        }
        int pidfd;
        try {
            pidfd = sys.pidfdOpen(pid);
        } catch (SyscallException e) {
            throw new ContainerStartException(what + ": its init (pid " + pid + ") is gone", e);
        }
        boolean ok = (startTime < 0 || (ProcessId.startTime(pid) == startTime && ProcessId.runsBerthInit(pid)))
                && sys.pidfdSendSignal(pidfd, 0);
        if (!ok) {
            sys.close(pidfd);
            throw new ContainerStartException(what + ": its init (pid " + pid + ") is gone");
        }
        return pidfd;
    }
}
