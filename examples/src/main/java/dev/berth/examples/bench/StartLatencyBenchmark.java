package dev.berth.examples.bench;

import dev.berth.core.Container;
import dev.berth.core.ContainerRuntime;
import dev.berth.core.ContainerSpec;
import dev.berth.core.ExitStatus;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * Start latency: N sequential runs of a static {@code true} from one warm JVM, timed from
 * {@code start()} to {@code onExit()} complete; in the same run, the same harness times
 * bubblewrap and runc over the same root filesystem (spawned through ProcessBuilder, whose
 * own cost is measured too, with /bin/true on the host).
 *
 * <p>Usage: {@code StartLatencyBenchmark ROOTFS RUNS [REPORT.md]}
 */
public final class StartLatencyBenchmark {

    public static void main(String[] args) throws Exception {
        Path rootfs = Path.of(args.length > 0 ? args[0] : "examples/target/rootfs").toAbsolutePath();
        int runs = args.length > 1 ? Integer.parseInt(args[1]) : 200;
        Path work = Files.createTempDirectory("berth-bench");
        Map<String, Optional<Stats>> results = new LinkedHashMap<>();
        try (ContainerRuntime runtime = ContainerRuntime.builder().stateRoot(work.resolve("state")).build()) {
            ContainerSpec spec = ContainerSpec.builder().rootfs(rootfs).command("/bin/true").build();
            results.put("berth", Optional.of(timeBerth(runtime, spec, runs)));
        }
        results.put("bwrap", timeCommand(runs, List.of("bwrap", "--unshare-all", "--die-with-parent", "--ro-bind",
                rootfs.toString(), "/", "--proc", "/proc", "--dev", "/dev", "/bin/true")));
        results.put("runc", timeRunc(rootfs, work, runs));
        results.put("spawn overhead (host /bin/true via ProcessBuilder)", timeCommand(runs, List.of("/bin/true")));
        String report = report(results, runs);
        System.out.print(report);
        if (args.length > 2) {
            Files.writeString(Path.of(args[2]), report);
        }
    }

    static Stats timeBerth(ContainerRuntime runtime, ContainerSpec spec, int runs) throws Exception {
        for (int i = 0; i < 20; i++) {
            runOnce(runtime, spec);
        }
        double[] ms = new double[runs];
        for (int i = 0; i < runs; i++) {
            ms[i] = runOnce(runtime, spec);
        }
        return Stats.of(ms);
    }

    private static double runOnce(ContainerRuntime runtime, ContainerSpec spec) throws Exception {
        long t0 = System.nanoTime();
        try (Container c = runtime.start(spec)) {
            ExitStatus s = c.onExit().join();
            long t1 = System.nanoTime();
            if (!s.exited() || s.exitCode() != 0) {
                throw new IllegalStateException("berth run ended " + s);
            }
            return (t1 - t0) / 1e6;
        }
    }

    static Optional<Stats> timeCommand(int runs, List<String> cmd) throws IOException, InterruptedException {
        if (!onPath(cmd.get(0))) {
            return Optional.empty();
        }
        for (int i = 0; i < 10; i++) {
            exec(cmd);
        }
        double[] ms = new double[runs];
        for (int i = 0; i < runs; i++) {
            ms[i] = exec(cmd);
        }
        return Optional.of(Stats.of(ms));
    }

    private static double exec(List<String> cmd) throws IOException, InterruptedException {
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

    /** A runc bundle over the same root: {@code runc spec}, then root path, args and no terminal. */
    static Optional<Stats> timeRunc(Path rootfs, Path work, int runs) throws IOException, InterruptedException {
        if (!onPath("runc")) {
            return Optional.empty();
        }
        Path bundle = Files.createDirectories(work.resolve("bundle"));
        Process spec = new ProcessBuilder("runc", "spec").directory(bundle.toFile()).inheritIO().start();
        if (spec.waitFor() != 0) {
            throw new IllegalStateException("runc spec failed");
        }
        Path config = bundle.resolve("config.json");
        String json = Files.readString(config)
                .replace("\"terminal\": true", "\"terminal\": false")
                .replace("\"path\": \"rootfs\"", "\"path\": \"" + rootfs + "\"")
                .replaceFirst("\"args\": \\[\\s*\"sh\"\\s*\\]", "\"args\": [\"/bin/true\"]");
        Files.writeString(config, json);
        List<Double> ms = new ArrayList<>();
        for (int i = 0; i < runs + 10; i++) {
            double t = exec(List.of("runc", "--root", work.resolve("runc-state").toString(), "run", "--bundle",
                    bundle.toString(), "bench-" + i));
            if (i >= 10) {
                ms.add(t);
            }
        }
        return Optional.of(Stats.of(ms.stream().mapToDouble(Double::doubleValue).toArray()));
    }

    private static boolean onPath(String cmd) {
        if (cmd.startsWith("/")) {
            return Files.isExecutable(Path.of(cmd));
        }
        for (String dir : System.getenv().getOrDefault("PATH", "/usr/bin:/bin").split(":")) {
            if (Files.isExecutable(Path.of(dir, cmd))) {
                return true;
            }
        }
        return false;
    }

    static String report(Map<String, Optional<Stats>> results, int runs) {
        StringBuilder b = new StringBuilder();
        b.append(String.format(Locale.ROOT, "Start latency, %d sequential runs of a static `true` (%s, %d cores)%n%n",
                runs, LocalDate.now(), Runtime.getRuntime().availableProcessors()));
        b.append("| runtime | p50 ms | p90 ms | p99 ms | min ms |\n|---|---:|---:|---:|---:|\n");
        results.forEach((name, s) -> b.append(s.map(x -> String.format(Locale.ROOT, "| %s | %.2f | %.2f | %.2f | %.2f |%n",
                name, x.p50(), x.p90(), x.p99(), x.min())).orElse("| " + name + " | missing | | | |\n")));
        Stats berth = results.get("berth").orElseThrow();
        b.append('\n');
        results.forEach((name, s) -> {
            if (!name.equals("berth") && !name.startsWith("spawn") && s.isPresent()) {
                b.append(String.format(Locale.ROOT, "- berth p50 / %s p50 = %.2f%n", name, berth.p50() / s.get().p50()));
            }
        });
        return b.toString();
    }
}
