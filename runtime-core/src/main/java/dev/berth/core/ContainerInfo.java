package dev.berth.core;

import java.time.Instant;
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
 */
public record ContainerInfo(String id, ContainerStatus status, Optional<String> image, Optional<String> rootfs,
        Instant created, Optional<Instant> started, Optional<Instant> finished, Optional<ExitStatus> exit, long pid,
        Owner owner) {

    /** Who holds a container's lock under the state root. */
    public enum Owner {
        THIS_RUNTIME, ANOTHER_RUNTIME, NONE,
        /** Started detached: it runs on its own (or has ended, and stays until removed); nobody holds it. */
        DETACHED
    }
}
