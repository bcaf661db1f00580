package dev.berth.core.testing;

import dev.berth.core.Container;
import dev.berth.core.ContainerRuntime;
import dev.berth.core.ContainerSpec;
import dev.berth.core.RestartPolicy;
import java.nio.file.Path;

/**
 * An embedding application killed with SIGKILL while it supervises a detached restart-always
 * container: starts {@code ID} ({@code sleep 1; exit 1}), prints {@code started ID}, and holds its
 * handle (so its restarts are this JVM's) until it is killed.
 * Usage: RestartingEmbedderMain STATE_ROOT STORAGE_ROOT BUSYBOX_ROOTFS ID
 */
public final class RestartingEmbedderMain {
    private RestartingEmbedderMain() {}

    public static void main(String[] args) throws Exception {
        ContainerRuntime runtime = ContainerRuntime.builder().stateRoot(Path.of(args[0]))
                .storageRoot(Path.of(args[1])).reconcile(false).build();
        Container c = runtime.start(args[3], ContainerSpec.builder().rootfs(Path.of(args[2]))
                .command("/bin/sh", "-c", "sleep 1; exit 1").detached(true).restart(RestartPolicy.always()).build());
        System.out.println("started " + c.id());
        System.out.flush();
        Thread.sleep(Long.MAX_VALUE);
    }
}
