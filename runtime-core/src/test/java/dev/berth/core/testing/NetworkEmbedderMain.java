package dev.berth.core.testing;

import dev.berth.core.Container;
import dev.berth.core.ContainerRuntime;
import dev.berth.core.ContainerSpec;
import dev.berth.core.Stdio;
import java.nio.file.Path;

/**
 * An embedding application killed with SIGKILL by NetworkingIT: starts one container serving HTTP
 * on the network given, with a port published on 127.0.0.1 and an alias, prints
 * {@code started ID HOSTPORT}, and waits to be killed.
 * Usage: NetworkEmbedderMain STATE_ROOT STORAGE_ROOT ROOTFS NETWORK ID
 */
public final class NetworkEmbedderMain {
    private NetworkEmbedderMain() {}

    public static void main(String[] args) throws Exception {
        ContainerRuntime runtime = ContainerRuntime.builder().stateRoot(Path.of(args[0]))
                .storageRoot(Path.of(args[1])).reconcile(false).build();
        ContainerSpec.Builder b = ContainerSpec.builder().rootfs(Path.of(args[2])).network(args[3])
                .publish("127.0.0.1::80").command("/bin/busybox", "httpd", "-f", "-p", "80", "-h", "/www")
                .stdout(Stdio.discard()).stderr(Stdio.discard());
        if (!args[3].equals("bridge")) {
            b.networkAlias("crash-alias");
        }
        Container c = runtime.start(args[4], b.build());
        System.out.println("started " + c.id() + " " + c.ports().get(0).hostPort());
        System.out.flush();
        Thread.sleep(Long.MAX_VALUE);
    }
}
