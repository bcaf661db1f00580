package dev.berth.core.testing;

import dev.berth.core.Container;
import dev.berth.core.ContainerRuntime;
import dev.berth.core.ContainerSpec;
import dev.berth.core.Stdio;
import java.nio.file.Path;

/**
 * An embedding application for crash-recovery tests of detached containers, killed with SIGKILL at
 * some point of its work: starts {@code PREFIX-d0}, {@code PREFIX-d1} detached (busybox counters
 * printing 0, 1, 2, ... a line every 10 ms) and {@code PREFIX-a0}, {@code PREFIX-a1} attached (probe
 * sleepers), printing {@code started ID PID} after each, then {@code ready}, then keeps starting and
 * closing short-lived attached and detached ones until it is killed.
 * Usage: DetachingEmbedderMain STATE_ROOT STORAGE_ROOT PROBE_ROOTFS BUSYBOX_ROOTFS PREFIX
 */
public final class DetachingEmbedderMain {
    static final String COUNTER = "i=0; while true; do echo $i; i=$((i+1)); sleep 0.01; done";

    private DetachingEmbedderMain() {}

    public static void main(String[] args) throws Exception {
        ContainerRuntime runtime = ContainerRuntime.builder().stateRoot(Path.of(args[0]))
                .storageRoot(Path.of(args[1])).reconcile(false).build();
        Path probe = Path.of(args[2]);
        Path busybox = Path.of(args[3]);
        String prefix = args[4];
        for (int i = 0; i < 2; i++) {
            started(runtime.start(prefix + "-d" + i, ContainerSpec.builder().rootfs(busybox)
                    .command("/bin/sh", "-c", COUNTER).detached(true).build()));
            started(runtime.start(prefix + "-a" + i, ContainerSpec.builder().rootfs(probe)
                    .command("/bin/probe", "sleep", "600").stdout(Stdio.discard()).stderr(Stdio.discard()).build()));
        }
        System.out.println("ready");
        System.out.flush();
        for (int n = 0; ; n++) {
            ContainerSpec.Builder b = ContainerSpec.builder().rootfs(busybox).command("/bin/sh", "-c", "echo $0",
                    Integer.toString(n));
            Container c = runtime.start(prefix + "-churn-" + n, n % 2 == 0 ? b.detached(true).autoRemove(true).build()
                    : b.stdout(Stdio.discard()).build());
            c.waitFor();
            c.close();
        }
    }

    private static void started(Container c) {
        System.out.println("started " + c.id() + " " + c.pid());
        System.out.flush();
    }
}
