package dev.berth.core.testing;

import dev.berth.core.Container;
import dev.berth.core.ContainerRuntime;
import java.nio.file.Path;

/**
 * An embedding application killed with SIGKILL while it follows a detached container it did not
 * start: adopts {@code ID}, prints {@code adopted ID}, and holds the handle (its health checks run
 * here while this JVM holds the container's health lease) until it is killed.
 * Usage: AdoptingEmbedderMain STATE_ROOT STORAGE_ROOT ID
 */
public final class AdoptingEmbedderMain {
    private AdoptingEmbedderMain() {}

    public static void main(String[] args) throws Exception {
        ContainerRuntime runtime = ContainerRuntime.builder().stateRoot(Path.of(args[0]))
                .storageRoot(Path.of(args[1])).reconcile(false).build();
        Container c = runtime.container(args[2]).orElseThrow(() -> new IllegalStateException("no container " + args[2]));
        System.out.println("adopted " + c.id());
        System.out.flush();
        Thread.sleep(Long.MAX_VALUE);
    }
}
