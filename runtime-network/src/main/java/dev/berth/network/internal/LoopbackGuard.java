package dev.berth.network.internal;

import dev.berth.network.NetworkException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * The firewall rule that keeps a network's containers off the host's loopback services.
 *
 * <p>portmap sets {@code net.ipv4.conf.<bridge>.route_localnet=1} so that a port published on
 * {@code 127.0.0.1} answers; that also lets a container which routes 127.0.0.0/8 to its gateway
 * reach every host service bound to 127.0.0.1 (measured: docs/security.md; the kube-proxy
 * CVE-2020-8558 class). Kubernetes' fix, per bridge: in {@code INPUT}, drop packets that came in
 * on the bridge for 127.0.0.0/8 unless they belong to a connection already made or were
 * DNAT'ed ({@code -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP}); the replies of a
 * published port reached on 127.0.0.1 are ESTABLISHED and pass. Installed (once) before each
 * attach, removed with the bridge. Through the {@code iptables} command, as the CNI plugins do.
 */
public final class LoopbackGuard {
    private final List<String> iptables;

    /** @param iptables the command and its first arguments ({@code ["iptables"]}; tests give a fake) */
    public LoopbackGuard(List<String> iptables) {
        this.iptables = List.copyOf(iptables);
    }

    /** The rule's specification for {@code bridge} (after the chain). */
    static List<String> rule(String bridge) {
        return List.of("-i", bridge, "-d", "127.0.0.0/8", "-m", "conntrack", "!", "--ctstate",
                "RELATED,ESTABLISHED,DNAT", "-m", "comment", "--comment", "berth: no host loopback from " + bridge,
                "-j", "DROP");
    }

    /** Adds the rule unless it is there. */
    public void install(String bridge) throws NetworkException {
        if (!run("-C", bridge, true)) {
            run("-I", bridge, false);
        }
    }

    /** Removes the rule (every copy); none: nothing to do. */
    public void remove(String bridge) throws NetworkException {
        for (int i = 0; run("-C", bridge, true); i++) {
            if (i == 64) {
                throw new NetworkException(iptables.get(0) + " -D INPUT for bridge " + bridge
                        + ": the rule is still there after 64 deletions");
            }
            run("-D", bridge, false);
        }
    }

    /** Runs {@code iptables -w <op> INPUT <rule>}; for a check, false when the rule is not there. */
    private boolean run(String op, String bridge, boolean check) throws NetworkException {
        List<String> cmd = new ArrayList<>(iptables);
        cmd.addAll(List.of("-w", op, "INPUT"));
        cmd.addAll(rule(bridge));
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
            int rc = p.waitFor();
            if (rc == 0) {
                return true;
            }
            if (check && rc == 1) {
                return false; // "does a matching rule exist in that chain?" no
            }
            throw new NetworkException(String.join(" ", cmd) + ": exit " + rc + (out.isEmpty() ? "" : ": " + out));
        } catch (IOException e) {
            throw new NetworkException(iptables.get(0) + " " + op + " INPUT for bridge " + bridge + ": " + e.getMessage()
                    + " (Debian: apt-get install iptables)", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new NetworkException(iptables.get(0) + " " + op + " INPUT for bridge " + bridge + ": interrupted", e);
        }
    }
}
