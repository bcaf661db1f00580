package dev.berth.examples.bench;

import dev.berth.cgroups.Cgroup;
import dev.berth.cgroups.CgroupDriver;
import dev.berth.cgroups.Resources;
import dev.berth.core.Container;
import dev.berth.core.ContainerRuntime;
import dev.berth.core.ContainerSpec;
import dev.berth.core.ExitStatus;
import dev.berth.core.Seccomp;
import dev.berth.core.UserNamespace;
import dev.berth.linux.internal.ProcStatus;
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
 * own cost is measured too, with /bin/true on the host). Every contender runs once per round,
 * round-robin, so that the drift of a shared machine falls on all of them alike.
 *
 * <p>Also measured: the same runs with memory and pids limits on, a container of an image
 * whose layers are already unpacked (the warm path: an overlay root instead of a bind
 * mount), without any cgroup, and a cgroup create + configure + remove cycle alone.
 *
 * <p>Then the default seccomp filter's cost, paired: starts with and without it, back to back in
 * alternating order ({@code -Dberth.bench.pairs=N} pairs, default 400; 0 leaves it out), reported as the
 * median of the paired differences with a bootstrap 95% interval.
 *
 * <p>Usage: {@code StartLatencyBenchmark ROOTFS RUNS [REPORT.md]}
 */
public final class StartLatencyBenchmark {

    /** One contender: a name and one timed start-to-exit, in milliseconds. */
    private record Contender(String name, Run run) {}

    @FunctionalInterface
    private interface Run {
        double once() throws Exception;
    }

    public static void main(String[] args) throws Exception {
        Path rootfs = Path.of(args.length > 0 ? args[0] : "examples/target/rootfs").toAbsolutePath();
        int runs = args.length > 1 ? Integer.parseInt(args[1]) : 200;
        Path work = Files.createTempDirectory("berth-bench");
        Map<String, Optional<Stats>> results = new LinkedHashMap<>();
        int pairs = Integer.getInteger("berth.bench.pairs", 400);
        Optional<Paired> seccomp;
        Optional<Paired> anyFilter = Optional.empty();
        Resources limits = Resources.builder().memoryMax(64L << 20).pidsMax(64).build();
        // As an ordinary user (start-latency-rootless.sh) the same harness measures rootless Berth (a user
        // namespace with the user's subordinate ids, no cgroup) against rootless bwrap; runc, the
        // explicitly mapped and the cgroup-less rootful contenders are root's.
        boolean rootful = ProcStatus.isRoot();
        try (ContainerRuntime runtime = ContainerRuntime.builder().stateRoot(work.resolve("state"))
                .storageRoot(work.resolve("storage")).build();
             ContainerRuntime bare = ContainerRuntime.builder().stateRoot(work.resolve("state-nocg"))
                .storageRoot(work.resolve("storage-nocg")).cgroups(false).build()) {
            ContainerSpec spec = ContainerSpec.builder().rootfs(rootfs).command("/bin/true").build();
            List<Contender> contenders = new ArrayList<>();
            contenders.add(new Contender("berth", () -> runOnce(runtime, spec)));
            // the default seccomp filter is on the start path (loaded by the target before its exec)
            ContainerSpec unconfined = spec.toBuilder().seccomp(Seccomp.unconfined()).build();
            contenders.add(new Contender(UNCONFINED, () -> runOnce(runtime, unconfined)));
            if (rootful) {
                // a user namespace of its own (container root = host uid 100000): the maps written between
                // clone and go, the root an idmapped tree the JVM hands to the init
                ContainerSpec mapped = spec.toBuilder().userNamespace(UserNamespace.of(100_000, 65_536)).build();
                contenders.add(new Contender(USERNS, () -> runOnce(runtime, mapped)));
            }
            if (runtime.cgroupDriver().isPresent()) {
                ContainerSpec limited = spec.toBuilder().resources(limits).build();
                contenders.add(new Contender(LIMITS, () -> runOnce(runtime, limited)));
            }
            Optional<String> image = importImage(runtime, rootfs, work);
            if (image.isPresent()) {
                ContainerSpec fromImage = ContainerSpec.builder().image(image.get()).command("/bin/true").build();
                contenders.add(new Contender(IMAGE, () -> runOnce(runtime, fromImage)));
            }
            if (rootful) {
                contenders.add(new Contender("berth, no cgroup", () -> runOnce(bare, spec)));
            }
            // bwrap as the same user: as root its sandbox without a user namespace, rootless with one
            // (--unshare-all tries the user namespace; unprivileged bwrap needs it)
            List<String> bwrap = List.of("bwrap", "--unshare-all", "--die-with-parent", "--ro-bind", rootfs.toString(), "/",
                    "--proc", "/proc", "--dev", "/dev", "/bin/true");
            if (onPath("bwrap")) {
                contenders.add(new Contender("bwrap", () -> exec(bwrap)));
            }
            if (!rootful && onPath("podman")) {
                // rootless podman over the same root (runc, no cgroup manager of systemd's here; crun refuses
                // this hybrid host even rootless: "cgroups in hybrid mode not supported")
                // its own copy of the root, the user's: podman writes /etc/mtab into a --rootfs
                Path own = work.resolve("podman-rootfs");
                exec(List.of("cp", "-a", rootfs.toString(), own.toString()));
                List<String> podman = List.of("podman", "--runtime", "runc", "--cgroup-manager", "cgroupfs", "run",
                        "--rm", "--network", "none", "--rootfs", own.toString(), "/bin/true");
                contenders.add(new Contender("podman (rootless, runc)", () -> exec(podman)));
            }
            if (rootful && onPath("runc")) {
                Path bundle = runcBundle(rootfs, work);
                int[] n = {0};
                contenders.add(new Contender("runc", () -> exec(List.of("runc", "--root", work.resolve("runc-state").toString(),
                        "run", "--bundle", bundle.toString(), "bench-" + n[0]++))));
            }
            contenders.add(new Contender(SPAWN, () -> exec(List.of("/bin/true"))));
            // Round-robin: every contender once per round, so that the drift of a shared machine
            // (other work, thermal, page cache) falls on all of them alike, not on whichever ran last.
            double[][] ms = new double[contenders.size()][runs];
            for (int round = -50; round < runs; round++) { // 50 rounds warm the JIT, JNA and the page cache
                for (int k = 0; k < contenders.size(); k++) {
                    double t = contenders.get(k).run().once();
                    if (round >= 0) {
                        ms[k][round] = t;
                    }
                }
            }
            for (int k = 0; k < contenders.size(); k++) {
                results.put(contenders.get(k).name(), Optional.of(Stats.of(ms[k])));
            }
            results.putIfAbsent(IMAGE, Optional.empty());
            runtime.cgroupDriver().ifPresent(d -> results.put("cgroup create + configure + remove (memory, pids)",
                    Optional.of(timeCgroups(d, limits, runs))));
            seccomp = pairs > 0 ? Optional.of(pairedSeccomp(runtime, spec, unconfined, pairs)) : Optional.empty();
            if (pairs > 0 && Boolean.getBoolean("berth.bench.anyFilter")) {
                // the floor: what any filter costs a start here, whatever its program (libseccomp's program for a
                // profile whose default action is allow: the architecture check and one return)
                ContainerSpec allowAll = spec.toBuilder().seccomp(Seccomp.profile("allow-all",
                        "{\"defaultAction\": \"SCMP_ACT_ALLOW\"}")).build();
                anyFilter = Optional.of(pairedSeccomp(runtime, allowAll, unconfined, pairs));
            }
        }
        String report = report(results, runs) + seccomp.map(p -> seccompReport(p, "default filter")).orElse("")
                + anyFilter.map(p -> seccompReport(p, "allow-all filter")).orElse("");
        System.out.print(report);
        if (args.length > 2) {
            Files.writeString(Path.of(args[2]), report);
        }
    }

    private static final String UNCONFINED = "berth, seccomp unconfined";
    private static final String USERNS = "berth, user namespace (0:100000:65536)";
    private static final String LIMITS = "berth, memory + pids limits";
    private static final String IMAGE = "berth, image (warm: overlay of unpacked layers)";
    private static final String SPAWN = "spawn overhead (host /bin/true via ProcessBuilder)";

    /**
     * The paired seccomp measurement: wall time, the containers' own CPU time (their cgroup's {@code cpu.stat}
     * usage: the init and the target, waits for a CPU left out; empty without a cgroup), and the load average
     * before and after it.
     */
    record Paired(PairedStats stats, Optional<PairedStats> cpu, String loadBefore, String loadAfter) {}

    /**
     * The default filter's cost, paired: {@code pairs} pairs of starts of the same spec with the default filter
     * and unconfined, back to back, after 50 pairs of warm-up; the pair's order alternates (on first, then off
     * first) so that whatever the first start of a pair leaves behind (a freed cgroup, a warm page) is charged
     * to both alike.
     */
    static Paired pairedSeccomp(ContainerRuntime runtime, ContainerSpec confined, ContainerSpec unconfined, int pairs)
            throws Exception {
        double[] on = new double[pairs];
        double[] off = new double[pairs];
        List<double[]> cpuPairs = new ArrayList<>(); // pairs where both starts' cgroups gave their CPU time
        String before = loadAverage();
        for (int i = -50; i < pairs; i++) {
            double[] a;
            double[] b;
            if ((i & 1) == 0) {
                a = runTimed(runtime, confined);
                b = runTimed(runtime, unconfined);
            } else {
                b = runTimed(runtime, unconfined);
                a = runTimed(runtime, confined);
            }
            if (i >= 0) {
                on[i] = a[0];
                off[i] = b[0];
                if (a[1] >= 0 && b[1] >= 0) {
                    cpuPairs.add(new double[] {a[1], b[1]});
                }
            }
        }
        Optional<PairedStats> cpu = Optional.empty();
        if (!cpuPairs.isEmpty()) {
            cpu = Optional.of(PairedStats.of(cpuPairs.stream().mapToDouble(x -> x[0]).toArray(),
                    cpuPairs.stream().mapToDouble(x -> x[1]).toArray(), 13));
        }
        return new Paired(PairedStats.of(on, off, 12), cpu, before, loadAverage());
    }

    /** One start to exit: wall ms, and the container's CPU ms from its cgroup (-1 when it has none). */
    private static double[] runTimed(ContainerRuntime runtime, ContainerSpec spec) throws Exception {
        long t0 = System.nanoTime();
        try (Container c = runtime.start(spec)) {
            ExitStatus s = c.onExit().join();
            long t1 = System.nanoTime();
            if (!s.exited() || s.exitCode() != 0) {
                throw new IllegalStateException("berth run ended " + s);
            }
            double cpu = -1;
            if (runtime.cgroupDriver().isPresent()) {
                long usec = c.stats().cpu().usageUsec();
                cpu = usec >= 0 ? usec / 1e3 : -1;
            }
            return new double[] {(t1 - t0) / 1e6, cpu};
        }
    }

    static String seccompReport(Paired p, String filter) {
        PairedStats s = p.stats();
        return String.format(Locale.ROOT, "%nSeccomp, %s: %d pairs (%s, unconfined; order alternating), "
                + "load average %s before, %s after%n%n| | ms |%n|---|---:|%n| median, %s | %.3f |%n"
                + "| median, unconfined | %.3f |%n| median of the paired differences | %+.3f |%n"
                + "| bootstrap 95%% interval of that median (%d resamples) | %+.3f to %+.3f |%n",
                filter, s.n(), filter, p.loadBefore(), p.loadAfter(), filter, s.medianA(), s.medianB(), s.medianDiff(),
                PairedStats.RESAMPLES, s.low95(), s.high95()) + p.cpu().map(c -> String.format(Locale.ROOT, "| the containers' CPU time "
                + "(cgroup; %d pairs with both figures), median: " + filter + ", unconfined | %.3f, %.3f |%n"
                + "| CPU time: median of the paired differences (95%% interval) | %+.3f (%+.3f to %+.3f) |%n", c.n(),
                c.medianA(), c.medianB(), c.medianDiff(),
                c.low95(), c.high95())).orElse("");
    }

    /** The 1, 5 and 15 minute load averages of {@code /proc/loadavg}. */
    static String loadAverage() throws IOException {
        String[] f = Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+");
        return f[0] + " " + f[1] + " " + f[2];
    }

    static Stats timeCgroups(CgroupDriver driver, Resources limits, int runs) {
        double[] ms = new double[runs];
        for (int i = 0; i < runs + 20; i++) {
            long t0 = System.nanoTime();
            Cgroup cg = driver.create("bench-" + i, limits);
            cg.remove();
            if (i >= 20) {
                ms[i - 20] = (System.nanoTime() - t0) / 1e6;
            }
        }
        return Stats.of(ms);
    }

    /** Builds a one-layer OCI image of the root with umoci and imports it; empty when umoci is missing. */
    static Optional<String> importImage(ContainerRuntime runtime, Path rootfs, Path work) throws Exception {
        if (!onPath("umoci")) {
            return Optional.empty();
        }
        Path dir = Files.createDirectories(work.resolve("image"));
        List<String> unpack = new ArrayList<>(List.of("umoci", "unpack", "--image", "L:t", "B"));
        if (!runtime.preflight().check(dev.berth.core.Preflight.ROOTLESS).orElseThrow().found().startsWith("false")) {
            unpack.add(2, "--rootless"); // as an ordinary user umoci cannot chown
        }
        for (List<String> cmd : List.of(List.of("umoci", "init", "--layout", "L"), List.of("umoci", "new", "--image", "L:t"),
                unpack, List.of("cp", "-a", rootfs + "/.", dir.resolve("B/rootfs").toString()),
                List.of("umoci", "repack", "--image", "L:t", "B"))) {
            Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            if (p.waitFor() != 0) {
                throw new IllegalStateException(String.join(" ", cmd) + " failed");
            }
        }
        runtime.images().importImage(dir.resolve("L"), Optional.of("bench/rootfs:1"), dev.berth.image.ImportProgress.NONE);
        runtime.images().prepare("bench/rootfs:1").close();
        return Optional.of("bench/rootfs:1");
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
    static Path runcBundle(Path rootfs, Path work) throws IOException, InterruptedException {
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
        return bundle;
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
        b.append(String.format(Locale.ROOT, "Start latency, %d sequential runs of a static `true`, contenders round-robin (%s, %d cores)%n%n",
                runs, LocalDate.now(), Runtime.getRuntime().availableProcessors()));
        b.append("| runtime | p50 ms | p90 ms | p99 ms | min ms |\n|---|---:|---:|---:|---:|\n");
        results.forEach((name, s) -> b.append(s.map(x -> String.format(Locale.ROOT, "| %s | %.2f | %.2f | %.2f | %.2f |%n",
                name, x.p50(), x.p90(), x.p99(), x.min())).orElse("| " + name + " | missing | | | |\n")));
        Stats berth = results.get("berth").orElseThrow();
        b.append('\n');
        for (String peer : List.of("bwrap", "runc", "podman (rootless, runc)")) {
            Optional<Stats> p = results.getOrDefault(peer, Optional.empty());
            if (p.isPresent()) {
                b.append(String.format(Locale.ROOT, "- berth p50 / %s p50 = %.2f", peer, berth.p50() / p.get().p50()));
                Optional<Stats> limited = results.getOrDefault(LIMITS, Optional.empty());
                limited.ifPresent(l -> b.append(String.format(Locale.ROOT, "; with limits %.2f", l.p50() / p.get().p50())));
                b.append('\n');
            }
        }
        results.get(UNCONFINED).ifPresent(u -> b.append(String.format(Locale.ROOT,
                "- default seccomp filter: berth p50 − unconfined p50 = %.2f ms%n", berth.p50() - u.p50())));
        results.getOrDefault(USERNS, Optional.empty()).ifPresent(u -> b.append(String.format(Locale.ROOT,
                "- user namespace: mapped p50 − berth p50 = %.2f ms%n", u.p50() - berth.p50())));
        results.get("berth, image (warm: overlay of unpacked layers)").ifPresent(img -> b.append(String.format(Locale.ROOT,
                "- image container p50 − rootfs container p50 = %.2f ms (the warm path's added start latency)%n",
                img.p50() - berth.p50())));
        return b.toString();
    }
}
