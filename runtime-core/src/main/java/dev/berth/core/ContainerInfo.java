package dev.berth.core;

import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * A container under a state root, as {@link ContainerRuntime#list()} reads it from its state file:
 * this runtime's, or another live runtime's on the same state root.
 *
 * @param id       the container id
 * @param status   its status as last recorded
 * @param image    the image reference it was started from, empty for a directory root
 * @param rootfs   the root directory it was started on, empty for an image
 * @param created  when its init was created
 * @param started  when its target was exec'd, if it was
 * @param finished when its target ended, if it did
 * @param exit     how it ended, once it did
 * @param pid      the host pid of its init (0 before the clone)
 * @param owner    who owns it: this runtime, another live one on the same state root, nobody (left
 *                 by a runtime that died; {@link ContainerRuntime#reconcile()} removes it), or it is
 *                 detached (on its own, until removed)
 * @param network  where it is on its network (addresses, published ports), when it is attached to one
 * @param command  the argv its target runs (entrypoint and command, the image's defaults resolved); empty
 *                 in a state written before it was recorded
 * @param health   its health as last recorded by the runtime that checks it; empty without a health check
 * @param restartCount how often it was started again by its restart policy or an unhealthy action
 * @param userNamespace the user namespace it runs in, as its start resolved it: {@link UserNamespace#host()} when it
 *                 has none of its own, else a {@link UserNamespace.Mode#MAPPED} one with the uid and gid maps
 *                 written for it (rootless: 0 to the user, 1..N to the user's subordinate ids; {@code auto}: the
 *                 range allocated to it; an explicit mapping as given); empty when its state does not say (written
 *                 by a Berth before it was recorded)
 */
public record ContainerInfo(String id, ContainerStatus status, Optional<String> image, Optional<String> rootfs,
        Instant created, Optional<Instant> started, Optional<Instant> finished, Optional<ExitStatus> exit, long pid,
        Owner owner, Optional<NetworkInfo> network, List<String> command, Optional<HealthStatus> health,
        int restartCount, Optional<UserNamespace> userNamespace) {

    public ContainerInfo {
        command = List.copyOf(command);
        if (userNamespace.isPresent() && userNamespace.get().mode() == UserNamespace.Mode.AUTO) {
            throw new IllegalArgumentException("userNamespace: " + userNamespace.get() + " is not resolved to maps");
        }
    }

    /** Without a recorded user namespace. */
    public ContainerInfo(String id, ContainerStatus status, Optional<String> image, Optional<String> rootfs,
            Instant created, Optional<Instant> started, Optional<Instant> finished, Optional<ExitStatus> exit, long pid,
            Owner owner, Optional<NetworkInfo> network, List<String> command, Optional<HealthStatus> health,
            int restartCount) {
        this(id, status, image, rootfs, created, started, finished, exit, pid, owner, network, command, health,
                restartCount, Optional.empty());
    }

    /** Without a recorded command, health or restarts. */
    public ContainerInfo(String id, ContainerStatus status, Optional<String> image, Optional<String> rootfs,
            Instant created, Optional<Instant> started, Optional<Instant> finished, Optional<ExitStatus> exit, long pid,
            Owner owner, Optional<NetworkInfo> network) {
        this(id, status, image, rootfs, created, started, finished, exit, pid, owner, network, List.of(),
                Optional.empty(), 0);
    }

    /** Without a network. */
    public ContainerInfo(String id, ContainerStatus status, Optional<String> image, Optional<String> rootfs,
            Instant created, Optional<Instant> started, Optional<Instant> finished, Optional<ExitStatus> exit, long pid,
            Owner owner) {
        this(id, status, image, rootfs, created, started, finished, exit, pid, owner, Optional.empty());
    }

    /** This, with its network. */
    public ContainerInfo withNetwork(Optional<NetworkInfo> n) {
        return new ContainerInfo(id, status, image, rootfs, created, started, finished, exit, pid, owner, n, command,
                health, restartCount, userNamespace);
    }

    /** Who holds a container's lock under the state root. */
    public enum Owner {
        THIS_RUNTIME, ANOTHER_RUNTIME, NONE,
        /** Started detached: it runs on its own (or has ended, and stays until removed); nobody holds it. */
        DETACHED
    }
}
