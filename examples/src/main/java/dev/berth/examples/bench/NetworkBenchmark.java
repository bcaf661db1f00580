package dev.berth.examples.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.berth.core.Container;
import dev.berth.core.ContainerRuntime;
import dev.berth.core.ContainerSpec;
import dev.berth.core.ExitStatus;
import dev.berth.core.NetworkMode;
import dev.berth.network.Attachment;
import dev.berth.network.Network;
import dev.berth.network.NetworkSpec;
import dev.berth.network.Networks;
import dev.berth.network.PortMapping;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Networking: (a) start latency of a container on a user network with one published port,
 * against the same container with {@code --network none}, and against the same CNI plugin chain
 * run by hand from a shell script ({@code cni-by-hand.sh}) with the plugin configurations Berth
 * hands the plugins, captured through logging shims; (b) HTTP throughput (ApacheBench) to a
 * container's busybox httpd through the published port on 127.0.0.1 against its container IP.
 *
 * <p>Usage: {@code NetworkBenchmark ROOTFS BUSYBOX BYHAND_SCRIPT STARTS TPUT_RUNS [REPORT.md]}
 */
public final class NetworkBenchmark {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Path CNI = Path.of("/usr/lib/cni");
    private static final PortMapping PORT = PortMapping.parse("127.0.0.1:0:80");

    public static void main(String[] args) throws Exception {
        Path source = Path.of(args[0]).toAbsolutePath();
        Path busybox = Path.of(args[1]);
        Path script = Path.of(args[2]).toAbsolutePath();
        int starts = Integer.parseInt(args[3]);
        int tputRuns = Integer.parseInt(args[4]);
        long pid = ProcessHandle.current().pid();
        Path work = Files.createTempDirectory("berth-netbench");
        Path rootfs = DensityBenchmark.rootfsWithBusybox(source, busybox, work);
        Path www = Files.createDirectories(rootfs.resolve("www"));
        byte[] big = new byte[1 << 20];
        Arrays.fill(big, (byte) 'x');
        Files.write(www.resolve("1m"), big);
        Files.write(www.resolve("1k"), Arrays.copyOf(big, 1024));
        String net = "nb" + pid;
        StringBuilder rep = new StringBuilder();
        try (ContainerRuntime runtime = ContainerRuntime.builder().stateRoot(work.resolve("state"))
                .storageRoot(work.resolve("storage")).build()) {
            Network n = runtime.networks().create(NetworkSpec.builder(net).build());
            try {
                Path templates = capture(work, net, pid);
                ContainerSpec none = ContainerSpec.builder().rootfs(rootfs).command("/bin/true").build();
                ContainerSpec bridged = none.toBuilder().network(NetworkMode.network(net)).publish(PORT).build();
                // (a) first starts: nothing else on the network, so each one starts its name server
                int firsts = 3;
                double[] first = new double[firsts];
                for (int i = 0; i < firsts; i++) {
                    first[i] = startToClose(runtime, bridged)[1];
                }
                String load0 = loadavg();
                // steady state: an idle container keeps the network's name server up
                ContainerSpec anchorSpec = none.toBuilder().network(NetworkMode.network(net))
                        .command("/bin/busybox", "sleep", "3600").build();
                double[] bExit = new double[starts], bClose = new double[starts], nExit = new double[starts],
                        nClose = new double[starts], hAdd = new double[starts], hDel = new double[starts],
                        hNsAdd = new double[starts], hNsDel = new double[starts], hWall = new double[starts];
                try (Container anchor = runtime.start(anchorSpec)) {
                    int warm = 5;
                    for (int r = -warm; r < starts; r++) {
                        for (int k = 0; k < 3; k++) {
                            int which = (Math.floorMod(r, 3) + k) % 3; // rotating order
                            if (which == 0) {
                                double[] t = startToClose(runtime, none);
                                if (r >= 0) { nExit[r] = t[0]; nClose[r] = t[1]; }
                            } else if (which == 1) {
                                double[] t = startToClose(runtime, bridged);
                                if (r >= 0) { bExit[r] = t[0]; bClose[r] = t[1]; }
                            } else {
                                double[] t = byHand(script, templates, "byhand-" + pid + "-" + (r + warm), "nbns" + pid);
                                if (r >= 0) { hNsAdd[r] = t[0]; hAdd[r] = t[1]; hDel[r] = t[2]; hNsDel[r] = t[3]; hWall[r] = t[4]; }
                            }
                        }
                    }
                    String load1 = loadavg();
                    rep.append(String.format(Locale.ROOT, "Network start latency, %d rounds (%d warm-up), contenders rotating"
                            + " (%s, %d cores; load average before %s, after %s)%n%n", starts, warm, LocalDate.now(),
                            Runtime.getRuntime().availableProcessors(), load0, load1));
                    rep.append("| contender | p50 ms | p90 ms | min ms |\n|---|---:|---:|---:|\n");
                    row(rep, "berth, --network none: start → exit", nExit);
                    row(rep, "berth, --network none: start → close (cleaned up)", nClose);
                    row(rep, "berth, user network + -p 127.0.0.1:0:80: start → exit", bExit);
                    row(rep, "berth, user network + -p 127.0.0.1:0:80: start → close (CNI DEL done)", bClose);
                    row(rep, "by hand: CNI ADD (bridge, portmap, firewall)", hAdd);
                    row(rep, "by hand: CNI DEL (firewall, portmap, bridge)", hDel);
                    double[] addDel = new double[starts];
                    for (int i = 0; i < starts; i++) {
                        addDel[i] = hAdd[i] + hDel[i];
                    }
                    row(rep, "by hand: ADD + DEL", addDel);
                    row(rep, "by hand: ip netns add", hNsAdd);
                    row(rep, "by hand: ip netns del", hNsDel);
                    row(rep, "by hand: whole script via ProcessBuilder (reference)", hWall);
                    row(rep, "berth, first start on the network (starts its name server), " + firsts + " runs", first);
                    double dClose = Stats.of(bClose).p50() - Stats.of(nClose).p50();
                    double dExit = Stats.of(bExit).p50() - Stats.of(nExit).p50();
                    double byHand = Stats.of(addDel).p50();
                    rep.append(String.format(Locale.ROOT, "%n- berth bridge+port − none (start → close, p50): %.2f ms;"
                            + " by hand ADD + DEL p50: %.2f ms; Berth's overhead on the plugins: %+.1f%% (target ≤ +10%%)%n",
                            dClose, byHand, (dClose / byHand - 1) * 100));
                    rep.append(String.format(Locale.ROOT, "- start → exit only: bridge+port − none %.2f ms against by hand ADD"
                            + " p50 %.2f ms: %+.1f%%%n", dExit, Stats.of(hAdd).p50(), (dExit / Stats.of(hAdd).p50() - 1) * 100));
                    rep.append(String.format(Locale.ROOT, "- first start on the network p50 − steady-state p50: %+.0f ms%n%n",
                            Stats.of(first).p50() - Stats.of(bClose).p50()));
                    // (b) throughput
                    throughput(runtime, none, net, tputRuns, rep);
                    userModeNetworks(runtime, none, net, starts, tputRuns, rep);
                    anchor.kill();
                    anchor.onExit().join();
                }
            } finally {
                runtime.networks().remove(net);
                rep.append("- bridge ").append(n.bridge()).append(" of network ").append(net).append(" removed\n");
            }
        }
        System.out.print(rep);
        if (args.length > 5) {
            Files.writeString(Path.of(args[5]), rep.toString());
        }
        DensityBenchmark.delete(work);
    }

    private static void throughput(ContainerRuntime runtime, ContainerSpec base, String net, int runs, StringBuilder rep)
            throws Exception {
        ContainerSpec server = base.toBuilder().network(NetworkMode.network(net)).publish(PORT)
                .command("/bin/busybox", "httpd", "-f", "-p", "80", "-h", "/www").build();
        try (Container c = runtime.start(server)) {
            int hostPort = c.ports().get(0).hostPort();
            String ip = runtime.networks().attachments(net).stream().filter(a -> a.containerId().equals(c.id()))
                    .map(Attachment::addresses).flatMap(List::stream).findFirst().orElseThrow().replaceAll("/.*", "");
            String[] files = {"1k", "1m"};
            int[] requests = {1000, 300};
            String[] paths = {"127.0.0.1:" + hostPort, ip + ":80"};
            String[] pathNames = {"published port 127.0.0.1:" + hostPort + " (DNAT)", "container IP " + ip + ":80"};
            Thread.sleep(300); // httpd listening
            String load0 = loadavg();
            double[][][] rps = new double[2][2][runs];
            double[][][] mbs = new double[2][2][runs];
            for (int f = 0; f < 2; f++) {
                for (int p = 0; p < 2; p++) {
                    ab(paths[p], files[f], requests[f] / 4); // warm-up
                }
                for (int r = 0; r < runs; r++) {
                    for (int k = 0; k < 2; k++) {
                        int p = (r + k) % 2;
                        double[] t = ab(paths[p], files[f], requests[f]);
                        rps[f][p][r] = t[0];
                        mbs[f][p][r] = t[1];
                    }
                }
            }
            String load1 = loadavg();
            rep.append(String.format(Locale.ROOT, "HTTP throughput to busybox httpd in the container, ApacheBench"
                    + " (`ab -c 8`, a connection per request), %d runs each, alternating (load average before %s, after %s)%n%n",
                    runs, load0, load1));
            rep.append("| file | path | requests/s (median) | MB/s (median) | requests/s, each run |\n|---|---|---:|---:|---|\n");
            for (int f = 0; f < 2; f++) {
                for (int p = 0; p < 2; p++) {
                    StringBuilder each = new StringBuilder();
                    for (double v : rps[f][p]) {
                        each.append(String.format(Locale.ROOT, "%.0f ", v));
                    }
                    rep.append(String.format(Locale.ROOT, "| %s (%d requests) | %s | %.0f | %.1f | %s|%n", files[f].equals("1k")
                            ? "1 KiB" : "1 MiB", requests[f], pathNames[p], median(rps[f][p]), median(mbs[f][p]), each));
                }
            }
            rep.append('\n');
            for (int f = 0; f < 2; f++) {
                double ratio = median(rps[f][0]) / median(rps[f][1]);
                rep.append(String.format(Locale.ROOT, "- %s: published port / container IP (requests/s medians) = %.2f"
                        + " (target ≥ 0.9: %s)%n", files[f].equals("1k") ? "1 KiB" : "1 MiB", ratio, ratio >= 0.9 ? "met" : "not met"));
            }
            c.kill();
            c.onExit().join();
        }
    }

    /**
     * A published port on 127.0.0.1 through pasta and slirp4netns (the user-mode networks, rootless
     * podman's) against the rootful bridge's DNAT, same run, contenders alternating: start → close
     * of {@code true} with the port published, HTTP throughput ({@code ab -c 8}) and latency
     * ({@code ab -c 1}: mean time per request of a run, its median over the runs).
     */
    private static void userModeNetworks(ContainerRuntime runtime, ContainerSpec base, String net, int starts, int runs,
            StringBuilder rep) throws Exception {
        NetworkMode[] modes = {NetworkMode.network(net), NetworkMode.pasta(), NetworkMode.slirp4netns()};
        String[] names = {"bridge (CNI, DNAT)", "pasta", "slirp4netns"};
        double[][] close = new double[3][starts];
        String load0 = loadavg();
        for (int r = -3; r < starts; r++) {
            for (int k = 0; k < 3; k++) {
                int m = Math.floorMod(r + k, 3);
                double[] t = startToClose(runtime, base.toBuilder().network(modes[m]).publish(PORT).build());
                if (r >= 0) {
                    close[m][r] = t[1];
                }
            }
        }
        List<Container> servers = new java.util.ArrayList<>();
        try {
            String[] hostPorts = new String[3];
            for (int m = 0; m < 3; m++) {
                Container c = runtime.start(base.toBuilder().network(modes[m]).publish(PORT)
                        .command("/bin/busybox", "httpd", "-f", "-p", "80", "-h", "/www").build());
                servers.add(c);
                hostPorts[m] = "127.0.0.1:" + c.ports().get(0).hostPort();
            }
            Thread.sleep(300); // httpd listening
            String[] files = {"1k", "1m"};
            int[] requests = {1000, 300};
            double[][][] rps = new double[2][3][runs];
            double[][][] mbs = new double[2][3][runs];
            double[][] lat = new double[3][runs];
            for (int m = 0; m < 3; m++) {
                for (int f = 0; f < 2; f++) {
                    ab(hostPorts[m], files[f], requests[f] / 4); // warm-up
                }
            }
            for (int r = 0; r < runs; r++) {
                for (int k = 0; k < 3; k++) {
                    int m = (r + k) % 3;
                    for (int f = 0; f < 2; f++) {
                        double[] t = ab(hostPorts[m], files[f], requests[f]);
                        rps[f][m][r] = t[0];
                        mbs[f][m][r] = t[1];
                    }
                    lat[m][r] = abLatency(hostPorts[m], "1k", 200);
                }
            }
            String load1 = loadavg();
            rep.append(String.format(Locale.ROOT, "%nA published port on 127.0.0.1: the rootful bridge against the user-mode"
                    + " networks (no root needed), same run, alternating; start → close %d rounds (3 warm-up),"
                    + " throughput and latency %d runs (load average before %s, after %s)%n%n", starts, runs, load0, load1));
            rep.append("| network | start → close p50 ms | 1 KiB requests/s (median) | 1 MiB MB/s (median) |"
                    + " latency 1 KiB, ms/request, `ab -c 1` (median) |\n|---|---:|---:|---:|---:|\n");
            for (int m = 0; m < 3; m++) {
                rep.append(String.format(Locale.ROOT, "| %s | %.1f | %.0f | %.1f | %.3f |%n", names[m],
                        Stats.of(close[m]).p50(), median(rps[0][m]), median(mbs[1][m]), median(lat[m])));
            }
            rep.append('\n');
            for (int m = 1; m < 3; m++) {
                rep.append(String.format(Locale.ROOT, "- %s / bridge: start → close %.2f×, 1 KiB requests/s %.2f×,"
                        + " 1 MiB MB/s %.2f×, latency %.2f×%n", names[m], Stats.of(close[m]).p50() / Stats.of(close[0]).p50(),
                        median(rps[0][m]) / median(rps[0][0]), median(mbs[1][m]) / median(mbs[1][0]),
                        median(lat[m]) / median(lat[0])));
            }
        } finally {
            for (Container c : servers) {
                c.kill();
                c.onExit().join();
                c.close();
            }
        }
    }

    private static final Pattern PER_REQUEST = Pattern.compile("Time per request:\\s+([0-9.]+) \\[ms\\] \\(mean\\)");

    /** One ApacheBench run with one connection at a time: its mean ms per request. */
    private static double abLatency(String hostPort, String file, int n) throws IOException, InterruptedException {
        Process p = new ProcessBuilder("ab", "-q", "-c", "1", "-n", Integer.toString(n), "http://" + hostPort + "/" + file)
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        Matcher m = PER_REQUEST.matcher(out);
        if (p.waitFor() != 0 || !m.find()) {
            throw new IllegalStateException("ab -c 1: " + out);
        }
        return Double.parseDouble(m.group(1));
    }

    private static final Pattern RPS = Pattern.compile("Requests per second:\\s+([0-9.]+)");
    private static final Pattern RATE = Pattern.compile("Transfer rate:\\s+([0-9.]+) \\[Kbytes/sec\\]");
    private static final Pattern FAILED = Pattern.compile("Failed requests:\\s+([0-9]+)");

    /** One ApacheBench run: requests/s and MB/s (10^6 bytes). */
    private static double[] ab(String hostPort, String file, int n) throws IOException, InterruptedException {
        Process p = new ProcessBuilder("ab", "-q", "-c", "8", "-n", Integer.toString(n), "http://" + hostPort + "/" + file)
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (p.waitFor() != 0) {
            throw new IllegalStateException("ab failed: " + out);
        }
        Matcher m = RPS.matcher(out), t = RATE.matcher(out), f = FAILED.matcher(out);
        if (!m.find() || !t.find() || !f.find() || !f.group(1).equals("0")) {
            throw new IllegalStateException("ab: " + out);
        }
        return new double[] {Double.parseDouble(m.group(1)), Double.parseDouble(t.group(1)) * 1024 / 1e6};
    }

    /** Berth's start (exit) and its full cycle to close(): [start → onExit, start → close] in ms. */
    private static double[] startToClose(ContainerRuntime runtime, ContainerSpec spec) throws Exception {
        long t0 = System.nanoTime();
        long t1;
        try (Container c = runtime.start(spec)) {
            ExitStatus s = c.onExit().join();
            t1 = System.nanoTime();
            if (!s.exited() || s.exitCode() != 0) {
                throw new IllegalStateException("container ended " + s);
            }
        }
        long t2 = System.nanoTime();
        return new double[] {(t1 - t0) / 1e6, (t2 - t0) / 1e6};
    }

    /** The chain by hand: [netns add, ADD, DEL, netns del, whole script] in ms. */
    private static double[] byHand(Path script, Path templates, String id, String ns) throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        long t0 = System.nanoTime();
        Process p = new ProcessBuilder("bash", script.toString(), templates.toString(), id, ns, Integer.toString(port))
                .redirectError(ProcessBuilder.Redirect.INHERIT).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
        int code = p.waitFor();
        double wall = (System.nanoTime() - t0) / 1e6;
        if (code != 0) {
            new ProcessBuilder("ip", "netns", "del", ns).start().waitFor();
            throw new IllegalStateException("cni-by-hand.sh exited " + code + ": " + out);
        }
        String[] f = out.split(" ");
        return new double[] {Double.parseDouble(f[0]), Double.parseDouble(f[1]), Double.parseDouble(f[2]),
                Double.parseDouble(f[3]), wall};
    }

    /**
     * What Berth hands the plugins: Networks (the code ContainerRuntime attaches through) opened on
     * the same storage root with a directory of logging shims in front of the real plugins, one
     * attach and detach with the benchmark's port against a scratch netns. The chain's own calls
     * (not host-local, which bridge calls) become templates: prevResult → @PREV@, hostPort → @PORT@.
     */
    static Path capture(Path work, String net, long pid) throws Exception {
        Path shims = Files.createDirectories(work.resolve("shims"));
        Path log = Files.createDirectories(work.resolve("cni-log"));
        try (Stream<Path> s = Files.list(CNI)) {
            for (Path plugin : s.toList()) {
                Path shim = shims.resolve(plugin.getFileName());
                Files.writeString(shim, "#!/bin/sh\nf=" + log + "/$(date +%s%N)-$CNI_COMMAND-" + plugin.getFileName()
                        + "\nenv | grep '^CNI_' | sort > \"$f.env\"\ntee \"$f.json\" | " + plugin + "\n");
                shim.toFile().setExecutable(true);
            }
        }
        String ns = "nbcap" + pid;
        run("ip", "netns", "add", ns);
        try {
            Networks cap = Networks.open(work.resolve("storage"), List.of(shims));
            cap.attach(net, "capture-" + pid, "/run/netns/" + ns, "eth0", List.of(PORT));
            cap.detach(net, "capture-" + pid);
        } finally {
            run("ip", "netns", "del", ns);
        }
        Path templates = Files.createDirectories(work.resolve("templates"));
        List<Path> calls;
        try (Stream<Path> s = Files.list(log)) {
            calls = s.filter(p -> p.toString().endsWith(".json") && !p.toString().endsWith("-host-local.json")).sorted().toList();
        }
        int i = 0;
        for (Path c : calls) {
            ObjectNode config = (ObjectNode) JSON.readTree(c.toFile());
            if (config.has("prevResult")) {
                config.put("prevResult", "@PREV@");
            }
            JsonNode pm = config.path("runtimeConfig").path("portMappings");
            if (pm.isArray()) {
                for (JsonNode m : (ArrayNode) pm) {
                    ((ObjectNode) m).put("hostPort", "@PORT@");
                }
            }
            String name = c.getFileName().toString().replaceFirst("^[0-9]+-", "");
            String text = JSON.writeValueAsString(config).replace("\"@PREV@\"", "@PREV@").replace("\"@PORT@\"", "@PORT@");
            Files.writeString(templates.resolve(String.format(Locale.ROOT, "%02d-%s", i++, name)), text);
        }
        // kept for the report: what was captured, with the environment of the first call
        Path keep = Path.of(System.getProperty("berth.bench.keep", work.resolve("kept").toString()));
        Files.createDirectories(keep);
        try (Stream<Path> s = Files.list(templates)) {
            for (Path t : s.toList()) {
                Files.copy(t, keep.resolve(t.getFileName()), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            }
        }
        try (Stream<Path> s = Files.list(log)) {
            for (Path t : s.filter(p -> p.toString().endsWith(".env")).toList()) {
                Files.copy(t, keep.resolve(t.getFileName()), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            }
        }
        return templates;
    }

    private static void run(String... cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).inheritIO().start();
        if (p.waitFor() != 0) {
            throw new IllegalStateException(String.join(" ", cmd) + " failed");
        }
    }

    private static String loadavg() throws IOException {
        String[] f = Files.readAllLines(Path.of("/proc/loadavg")).get(0).split(" ");
        return f[0] + " " + f[1] + " " + f[2];
    }

    private static double median(double[] v) {
        return Stats.of(v).p50();
    }

    private static void row(StringBuilder b, String name, double[] ms) {
        Stats s = Stats.of(ms);
        b.append(String.format(Locale.ROOT, "| %s | %.2f | %.2f | %.2f |%n", name, s.p50(), s.p90(), s.min()));
    }
}
