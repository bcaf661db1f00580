package dev.berth.core.testing;

import dev.berth.core.Container;
import dev.berth.core.ContainerRuntime;
import dev.berth.core.ContainerSpec;
import dev.berth.core.Stdio;
import java.nio.file.Path;

/**
 * An embedding application for crash-recovery tests, killed with SIGKILL at some point of its work:
 * starts {@code COUNT} containers {@code PREFIX-0 ...} (from the image when one is given, every other
 * one; from the root directory otherwise), printing {@code started ID} after each, then {@code ready},
 * then keeps starting and closing short-lived ones ({@code PREFIX-churn-N}) until it is killed, so
 * that the kill lands in the middle of a start, an exit or a close.
 * Usage: CrashingEmbedderMain STATE_ROOT STORAGE_ROOT ROOTFS IMAGE|- PREFIX COUNT
 */
public final class CrashingEmbedderMain {
    private CrashingEmbedderMain() {}

    public static void main(String[] args) throws Exception {
        ContainerRuntime runtime = ContainerRuntime.builder().stateRoot(Path.of(args[0]))
                .storageRoot(Path.of(args[1])).reconcile(false).build();
        Path rootfs = Path.of(args[2]);
        String image = args[3].equals("-") ? null : args[3];
        String prefix = args[4];
        int count = Integer.parseInt(args[5]);
        for (int i = 0; i < count; i++) {
            Container c = runtime.start(prefix + "-" + i, spec(rootfs, i % 2 == 0 ? image : null, "sleep", "600"));
            System.out.println("started " + c.id() + " " + c.pid());
            System.out.flush();
        }
        System.out.println("ready");
        System.out.flush();
        for (int n = 0; ; n++) {
            try (Container c = runtime.start(prefix + "-churn-" + n, spec(rootfs, n % 2 == 0 ? image : null, "exit", "0"))) {
                c.waitFor();
            }
        }
    }

    private static ContainerSpec spec(Path rootfs, String image, String... args) {
        ContainerSpec.Builder b = image != null ? ContainerSpec.builder().image(image).command(args)
                : ContainerSpec.builder().rootfs(rootfs).command(prepend("/bin/probe", args));
        return b.stdout(Stdio.discard()).stderr(Stdio.discard()).build();
    }

    private static String[] prepend(String first, String[] rest) {
        String[] a = new String[rest.length + 1];
        a[0] = first;
        System.arraycopy(rest, 0, a, 1, rest.length);
        return a;
    }
}
