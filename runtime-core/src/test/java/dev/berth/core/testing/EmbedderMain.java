package dev.berth.core.testing;

import dev.berth.core.Container;
import dev.berth.core.ContainerRuntime;
import dev.berth.core.ContainerSpec;
import dev.berth.core.Stdio;
import java.nio.file.Path;

/**
 * An embedding application in a JVM of its own, for tests that kill it: starts one container
 * ({@code probe sleep 600}) and prints {@code id ID init PID}, then waits to be killed.
 * Usage: EmbedderMain STATE_ROOT STORAGE_ROOT ROOTFS [USERNS_HOST_ID]: with the last, in a user namespace mapping
 * 65536 ids from that host id.
 */
public final class EmbedderMain {
    private EmbedderMain() {}

    public static void main(String[] args) throws Exception {
        ContainerRuntime runtime = ContainerRuntime.builder().stateRoot(Path.of(args[0]))
                .storageRoot(Path.of(args[1])).build();
        ContainerSpec.Builder spec = ContainerSpec.builder().rootfs(Path.of(args[2]))
                .command("/bin/probe", "sleep", "600").stdout(Stdio.discard());
        if (args.length > 3) {
            spec.userNamespace(dev.berth.core.UserNamespace.of(Long.parseLong(args[3]), 65536));
        }
        Container c = runtime.start(spec.build());
        System.out.println("id " + c.id() + " init " + c.pid());
        System.out.flush();
        Thread.sleep(Long.MAX_VALUE);
    }
}
