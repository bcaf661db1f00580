package dev.berth.core.testing;

import dev.berth.core.Container;
import dev.berth.core.ContainerRuntime;
import dev.berth.core.ContainerSpec;
import dev.berth.core.ExitStatus;
import dev.berth.core.Stdio;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * An embedding application in a JVM of its own, run by the user-mode network ITs in a mount
 * namespace whose {@code /etc/resolv.conf} is a test file (what the runtime and the network's tool
 * both read): runs one container on the network given that prints its {@code /etc/resolv.conf}, then
 * {@code getent hosts NAME} and its exit code, prints that output and {@code exit STATUS}, and ends.
 * Usage: DnsEmbedderMain STATE_ROOT STORAGE_ROOT ROOTFS NETWORK ID NAME
 */
public final class DnsEmbedderMain {
    private DnsEmbedderMain() {}

    public static void main(String[] args) throws Exception {
        try (ContainerRuntime runtime = ContainerRuntime.builder().stateRoot(Path.of(args[0]))
                .storageRoot(Path.of(args[1])).build();
                Container c = runtime.start(args[4], ContainerSpec.builder().rootfs(Path.of(args[2])).network(args[3])
                        .command("/bin/sh", "-c", "cat /etc/resolv.conf; echo '--- getent'; /usr/bin/getent hosts \"$0\";"
                                + " echo \"rc=$?\"", args[5])
                        .stdout(Stdio.pipe()).build())) {
            String out = new String(c.stdout().readAllBytes(), StandardCharsets.UTF_8);
            ExitStatus status = c.waitFor();
            System.out.print(out);
            System.out.println("exit " + status);
        }
    }
}
