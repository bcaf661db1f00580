package dev.berth.core.testing;

import dev.berth.core.Container;
import dev.berth.core.ContainerRuntime;
import dev.berth.core.ContainerSpec;
import dev.berth.core.Stdio;
import java.nio.file.Path;

/**
 * An embedding application killed with SIGKILL by the user-mode network ITs: starts one detached
 * container serving HTTP on the user-mode network given, its port published on 127.0.0.1, prints
 * {@code started ID HOSTPORT}, and waits to be killed.
 * Usage: UserModeEmbedderMain STATE_ROOT STORAGE_ROOT ROOTFS NETWORK ID
 */
public final class UserModeEmbedderMain {
    private UserModeEmbedderMain() {}

    public static void main(String[] args) throws Exception {
        ContainerRuntime runtime = ContainerRuntime.builder().stateRoot(Path.of(args[0]))
                .storageRoot(Path.of(args[1])).reconcile(false).build();
        Container c = runtime.start(args[4], ContainerSpec.builder().rootfs(Path.of(args[2])).network(args[3])
                .publish("127.0.0.1::80").command("/bin/busybox", "httpd", "-f", "-p", "80", "-h", "/www")
                .detached(true).build());
        System.out.println("started " + c.id() + " " + c.ports().get(0).hostPort());
        System.out.flush();
        Thread.sleep(Long.MAX_VALUE);
    }
}
