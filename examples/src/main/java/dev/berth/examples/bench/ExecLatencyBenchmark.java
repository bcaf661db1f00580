package dev.berth.examples.bench;

import dev.berth.core.Container;
import dev.berth.core.ContainerRuntime;
import dev.berth.core.ContainerSpec;
import dev.berth.core.ExecProcess;
import dev.berth.core.ExecSpec;
import dev.berth.core.ExitStatus;
import dev.berth.core.Stdio;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * Exec latency: N sequential runs of a static {@code true} in an already running container, timed
 * from the call to the process's end, against {@code nsenter} into the same container (namespaces
 * only: no cgroup, capabilities or user) and {@code runc exec} into a runc container over the same
 * root. The peers are spawned through ProcessBuilder, whose own cost is measured too. Contenders run
 * round-robin, so that a shared machine's drift falls on all alike.
 *
 * <p>Usage (root): {@code ExecLatencyBenchmark ROOTFS [RUNS] [REPORT.md]}
 */
public final class ExecLatencyBenchmark {

    private record Contender(String name, Callable<Double> once) {}

    public static void main(String[] args) throws Exception {
        Path rootfs = Path.of(args[0]).toAbsolutePath();
        int runs = args.length > 1 ? Integer.parseInt(args[1]) : 200;
        Path work = Files.createTempDirectory("berth-exec-bench");
        String runcRoot = work.resolve("runc-state").toString();
        try (ContainerRuntime runtime = ContainerRuntime.builder().stateRoot(work.resolve("state"))
                .storageRoot(work.resolve("storage")).build();
             Container c = runtime.start(ContainerSpec.builder().rootfs(rootfs).command("/bin/probe", "sleep", "3600")
                     .stdout(Stdio.discard()).build())) {
            ExecSpec spec = ExecSpec.builder().command("/bin/true").stdout(Stdio.discard()).stderr(Stdio.discard()).build();
            List<Contender> contenders = new ArrayList<>();
            contenders.add(new Contender("berth exec", () -> {
                long t0 = System.nanoTime();
                try (ExecProcess p = c.exec(spec)) {
                    ExitStatus s = p.onExit().join();
                    long t1 = System.nanoTime();
                    if (!s.equals(ExitStatus.exited(0))) {
                        throw new IllegalStateException("berth exec ended " + s);
                    }
                    return (t1 - t0) / 1e6;
                }
            }));
            ContainerSpec one = ContainerSpec.builder().rootfs(rootfs).command("/bin/true").stdout(Stdio.discard()).build();
            contenders.add(new Contender("berth start of a container running true (reference)", () -> {
                long t0 = System.nanoTime();
                try (Container d = runtime.start(one)) {
                    d.onExit().join();
                    return (System.nanoTime() - t0) / 1e6;
                }
            }));
            contenders.add(new Contender("nsenter (namespaces only)", () -> spawn(List.of("nsenter", "-t",
                    Long.toString(c.pid()), "-m", "-u", "-i", "-n", "-p", "-C", "/bin/true"))));
            Path bundle = StartLatencyBenchmark.runcBundle(rootfs, work);
            Path config = bundle.resolve("config.json");
            Files.writeString(config, Files.readString(config).replace("\"args\": [\"/bin/true\"]",
                    "\"args\": [\"/bin/probe\", \"sleep\", \"3600\"]"));
            spawn(List.of("runc", "--root", runcRoot, "run", "-d", "--bundle", bundle.toString(), "bench-exec"));
            try {
                contenders.add(new Contender("runc exec", () -> spawn(List.of("runc", "--root", runcRoot, "exec",
                        "bench-exec", "/bin/true"))));
                contenders.add(new Contender("spawn overhead (host /bin/true via ProcessBuilder)",
                        () -> spawn(List.of("/bin/true"))));
                int warmup = 30;
                double[][] ms = new double[contenders.size()][runs];
                for (int r = 0; r < warmup + runs; r++) {
                    for (int k = 0; k < contenders.size(); k++) {
                        double t = contenders.get(k).once().call();
                        if (r >= warmup) {
                            ms[k][r - warmup] = t;
                        }
                    }
                }
                Map<String, Stats> results = new LinkedHashMap<>();
                for (int k = 0; k < contenders.size(); k++) {
                    results.put(contenders.get(k).name(), Stats.of(ms[k]));
                }
                String report = report(results, runs, Thread.activeCount());
                System.out.print(report);
                if (args.length > 2) {
                    Files.writeString(Path.of(args[2]), report);
                }
            } finally {
                spawnQuietly(List.of("runc", "--root", runcRoot, "delete", "-f", "bench-exec"));
            }
        }
    }

    private static double spawn(List<String> cmd) throws IOException, InterruptedException {
        long t0 = System.nanoTime();
        Process p = new ProcessBuilder(cmd).redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .redirectError(ProcessBuilder.Redirect.INHERIT).start();
        int code = p.waitFor();
        long t1 = System.nanoTime();
        if (code != 0) {
            throw new IllegalStateException(String.join(" ", cmd) + " exited " + code);
        }
        return (t1 - t0) / 1e6;
    }

    private static void spawnQuietly(List<String> cmd) {
        try {
            new ProcessBuilder(cmd).inheritIO().start().waitFor();
        } catch (IOException | InterruptedException e) {
            System.err.println(String.join(" ", cmd) + ": " + e.getMessage());
        }
    }

    static String report(Map<String, Stats> results, int runs, int threads) {
        StringBuilder b = new StringBuilder();
        b.append(String.format(Locale.ROOT, "Exec latency, %d sequential runs of a static `true` in a running container,"
                + " contenders round-robin (%s, %d cores)%n%n", runs, LocalDate.now(),
                Runtime.getRuntime().availableProcessors()));
        b.append("| contender | p50 ms | p90 ms | p99 ms | min ms |\n|---|---:|---:|---:|---:|\n");
        results.forEach((name, x) -> b.append(String.format(Locale.ROOT, "| %s | %.2f | %.2f | %.2f | %.2f |%n",
                name, x.p50(), x.p90(), x.p99(), x.min())));
        Stats berth = results.get("berth exec");
        b.append('\n');
        for (String peer : List.of("runc exec", "nsenter (namespaces only)")) {
            b.append(String.format(Locale.ROOT, "- berth exec p50 / %s p50 = %.2f%n", peer, berth.p50() / results.get(peer).p50()));
        }
        b.append(String.format(Locale.ROOT, "- JVM threads at the end: %d%n", threads));
        return b.toString();
    }
}
