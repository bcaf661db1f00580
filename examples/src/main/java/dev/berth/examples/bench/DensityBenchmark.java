package dev.berth.examples.bench;

import dev.berth.cgroups.CgroupDriver;
import dev.berth.core.Container;
import dev.berth.core.ContainerRuntime;
import dev.berth.core.ContainerSpec;
import dev.berth.core.LogConfig;
import dev.berth.core.Stdio;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

/**
 * Density under one JVM: N idle containers running at once, started and then stopped from a small
 * pool of threads. Reported for each configuration: the time to start all, the JVM's thread count
 * before, with all running and after, the helpers' memory per container as PSS (the sum of
 * {@code /proc/PID/smaps_rollup} {@code Pss} of every monitor and init, over N), and the time to
 * close all, after which no helper process, cgroup, container directory or state is to be left
 * (checked, and reported).
 *
 * <p>Configurations: Berth without log capture; Berth with {@code logging(LogConfig.DEFAULT)}, each
 * container having written one line; the same after each wrote 1 MiB (the capture's buffers then
 * touched). Peer, in the same run: podman's {@code conmon} supervising a {@code runc} container each,
 * with its k8s-file log driver, same root and workload; its PSS is conmon's (runc's container has no
 * init of its own: the workload is PID 1, and {@code runc create} is gone once it is created).
 *
 * <p>With {@code -Dberth.density.floor=HARNESS} (density.sh builds bench/density-floor.c) the floor
 * runs in the same run, before and after Berth's configurations: the same containers (3 processes
 * each, Berth's shape, and 2, runc's under conmon) made and ended in C with nothing of Berth's, and
 * the report gives Berth's stop-all over it. Every stop is preceded by a {@code sync}, so that Berth
 * and the floor remove files in the same state. The stop reports one phase too: when the last
 * container's exit was known ({@code onExit()}), before its cgroup, directories and state were gone.
 * {@code -Dberth.density.configs} picks configurations (bare, line, mib; bare-kill: every container
 * killed first, then closed, an idea measured).
 *
 * <p>The workload is the host's static busybox, copied into a copy of the root:
 * {@code sh -c 'echo ready; exec sleep 3600'}.
 *
 * <p>Usage (root): {@code DensityBenchmark ROOTFS BUSYBOX [N] [POOL] [REPORT.md] [CONMON_N]}; CONMON_N
 * (default N) is how many conmon containers: each costs a {@code runc create}, {@code runc start},
 * {@code runc kill} and {@code runc delete}, and conmon syncs the log when its container ends, which
 * makes a thousand of them take many minutes on a small machine.
 */
public final class DensityBenchmark {

    /** What one configuration measured. */
    /** What one run of the floor harness (bench/density-floor.c) measured. */
    record Floor(int procs, int n, double startMs, double stopMs, double reapedMs, String leftOver) {
    }

    record Result(String name, int n, double startMs, double stopMs, double exitKnownMs, int threadsBefore, int threadsRunning,
                  int threadsAfter, int osThreadsBefore, int osThreadsRunning, int osThreadsAfter,
                  long pssKiB, long pssAnonKiB, long rssKiB, int helpers, String leftOver) {

        double pssPerContainer() {
            return (double) pssKiB / n;
        }
    }

    private static final List<String> ONE_LINE = List.of("/bin/busybox", "sh", "-c", "echo ready; exec /bin/busybox sleep 3600");
    private static final List<String> ONE_MIB = List.of("/bin/busybox", "sh", "-c",
            "/bin/busybox yes 0123456789abcdef0123456789abcdef | /bin/busybox head -c 1048576; exec /bin/busybox sleep 3600");

    public static void main(String[] args) throws Exception {
        Path source = Path.of(args[0]).toAbsolutePath();
        Path busybox = Path.of(args[1]);
        int n = args.length > 2 ? Integer.parseInt(args[2]) : 1000;
        int pool = args.length > 3 ? Integer.parseInt(args[3]) : 4;
        Path work = Files.createTempDirectory("berth-density");
        try {
            measure(args, source, busybox, n, pool, work);
        } finally {
            delete(work); // a failed run leaves no work directory either
        }
    }

    static void measure(String[] args, Path source, Path busybox, int n, int pool, Path work) throws Exception {
        Path rootfs = rootfsWithBusybox(source, busybox, work);
        String limits = limits();
        System.err.println(limits);
        List<Result> results = new ArrayList<>();
        List<Floor> floors = new ArrayList<>();
        String floorHarness = System.getProperty("berth.density.floor");
        // which Berth configurations: all three by default ("bare,line,mib"); fewer for repeated runs
        List<String> configs = List.of(System.getProperty("berth.density.configs", "bare,line,mib").split(","));
        // a parent cgroup of this run's own: other runtimes on the machine use the default "berth",
        // and the leftover check must see only this run's cgroups
        String parent = "berth-density-" + ProcessHandle.current().pid();
        try (CgroupDriver driver = CgroupDriver.detect(CgroupDriver.Options.builder().parent(parent).build())) {
            try (ContainerRuntime runtime = ContainerRuntime.builder().stateRoot(work.resolve("state"))
                    .storageRoot(work.resolve("storage")).cgroupDriver(driver).build()) {
                ContainerSpec base = ContainerSpec.builder().rootfs(rootfs).command(ONE_LINE).build();
                ContainerSpec bare = base.toBuilder().stdout(Stdio.discard()).stderr(Stdio.discard()).build();
                ContainerSpec captured = base.toBuilder().logging(LogConfig.DEFAULT).build();
                ContainerSpec burst = captured.toBuilder().command(ONE_MIB).build();
                // warm-up: the JIT, JNA, the callback pool and the runtime's lazily started threads
                berth(runtime, driver, work, "warm-up", captured, Math.min(n, 20), pool);
                if (floorHarness != null) { // the floor in the same run, before and after Berth's
                    floors.add(floor(floorHarness, rootfs, work, driver, n, 3, pool));
                    floors.add(floor(floorHarness, rootfs, work, driver, n, 2, pool));
                }
                if (configs.contains("bare")) {
                    results.add(berth(runtime, driver, work, "berth, no log capture", bare, n, pool));
                }
                if (configs.contains("bare-kill")) { // an idea measured: every container signalled, then closed
                    results.add(berth(runtime, driver, work, "berth, no log capture, all killed first", bare, n, pool));
                }
                if (configs.contains("line")) {
                    results.add(berth(runtime, driver, work, "berth, log capture (one line written)", captured, n, pool));
                }
                if (configs.contains("mib")) {
                    results.add(berth(runtime, driver, work, "berth, log capture (1 MiB written)", burst, n, pool));
                }
                if (floorHarness != null) {
                    floors.add(floor(floorHarness, rootfs, work, driver, n, 3, pool));
                    floors.add(floor(floorHarness, rootfs, work, driver, n, 2, pool));
                }
            }
        }
        String conmonNote = "";
        int conmonN = args.length > 5 ? Integer.parseInt(args[5]) : n;
        if (onPath("conmon") && onPath("runc") && conmonN > 0) {
            results.add(conmon(rootfs, work, conmonN, pool));
        } else {
            conmonNote = "- conmon: not run (" + (conmonN == 0 ? "CONMON_N 0" : (onPath("conmon") ? "runc" : "conmon")
                    + " is not installed") + ")\n";
        }
        String report = report(results, pool, limits) + floorReport(floors, results) + conmonNote;
        System.out.print(report);
        if (args.length > 4 && !args[4].isEmpty()) {
            Files.writeString(Path.of(args[4]), report);
        }
    }

    // ---- Berth ----

    static Result berth(ContainerRuntime runtime, CgroupDriver driver, Path work, String name, ContainerSpec spec,
                        int n, int pool) throws Exception {
        System.err.printf(Locale.ROOT, "%s: starting %d%n", name, n);
        int threadsBefore = threads();
        int osBefore = osThreads();
        Container[] cs = new Container[n];
        long t0 = System.nanoTime();
        inPool(pool, n, i -> cs[i] = runtime.start("d" + i, spec));
        double startMs = (System.nanoTime() - t0) / 1e6;
        // what the containers write is read by then; the burst needs the monitor to have caught up
        Thread.sleep(spec.command().equals(ONE_MIB) ? 5000 : 2000);
        int threadsRunning = threads();
        int osRunning = osThreads();
        List<long[]> helpers = new ArrayList<>(); // pid, start time
        long[] mem = new long[3];
        noteHierarchies(cs[0].pid(), driver.parentPaths().get(0).getFileName().toString());
        for (Container c : cs) {
            long init = c.pid();
            long monitor = ppid(init);
            for (long pid : new long[] {monitor, init}) {
                if (!exe(pid).startsWith("/memfd:berth-init")) {
                    throw new IllegalStateException("pid " + pid + " of " + c.id() + " is " + exe(pid) + ", not berth-init");
                }
                helpers.add(new long[] {pid, startTime(pid)});
                add(mem, pid);
            }
        }
        System.err.printf(Locale.ROOT, "%s: started in %.0f ms, %.1f KiB PSS a container; stopping%n", name, startMs,
                (double) mem[0] / n);
        // the files written at start are on the disk before the stop, as the floor's are: removing a file
        // whose blocks are written costs far more than removing one still in the page cache only
        run(List.of("sync"));
        // a phase of the stop: when the last container's exit was known (onExit() completes after the
        // monitor's report, before the cgroup, directories and state are removed)
        java.util.concurrent.atomic.AtomicLong lastExit = new java.util.concurrent.atomic.AtomicLong();
        long[] exitAt = new long[n];
        long[] closeAt = new long[n];
        long[] closedAt = new long[n];
        for (int i = 0; i < n; i++) {
            int k = i;
            cs[i].onExit().whenComplete((s, e) -> {
                exitAt[k] = System.nanoTime();
                lastExit.accumulateAndGet(exitAt[k], Math::max);
            });
        }
        t0 = System.nanoTime();
        if (name.endsWith("all killed first")) {
            for (Container c : cs) {
                c.kill();
            }
        }
        inPool(pool, n, i -> {
            closeAt[i] = System.nanoTime();
            cs[i].close();
            closedAt[i] = System.nanoTime();
        });
        double stopMs = (System.nanoTime() - t0) / 1e6;
        double toExit = 0;
        double afterExit = 0;
        for (int i = 0; i < n; i++) {
            toExit += (exitAt[i] - closeAt[i]) / 1e6;
            afterExit += (closedAt[i] - exitAt[i]) / 1e6;
        }
        System.err.printf(Locale.ROOT, "%s: stopped in %.0f ms, the last exit known at %.0f ms; a close took %.1f ms"
                + " to its exit and %.1f ms after it (means)%n", name, stopMs, (lastExit.get() - t0) / 1e6, toExit / n,
                afterExit / n);
        int threadsAfter = threads();
        int osAfter = osThreads();
        return new Result(name, n, startMs, stopMs, (lastExit.get() - t0) / 1e6, threadsBefore, threadsRunning, threadsAfter, osBefore, osRunning,
                osAfter, mem[0], mem[1], mem[2], helpers.size(), leftOver(helpers, driver, work));
    }

    // ---- the floor: the same process tree, namespaces, mounts, cgroups and files, in C ----

    /**
     * Runs bench/density-floor.c: n containers of {@code procs} processes each (3: Berth's monitor,
     * init and workload; 2: runc's under conmon, the workload as PID 1), cgroups in sibling parents of
     * this run's own (the hierarchies the warm-up's containers used), files in a directory of the work dir, killed and removed from
     * {@code pool} threads; it exits 0 only if nothing is left, which is checked again here.
     */
    static Floor floor(String harness, Path rootfs, Path work, CgroupDriver driver, int n, int procs, int pool)
            throws IOException, InterruptedException {
        System.err.printf(Locale.ROOT, "floor, %d processes a container: %d%n", procs, n);
        Path dir = Files.createDirectories(work.resolve("floor" + procs));
        List<String> cmd = new ArrayList<>(List.of(harness, rootfs.toString(), dir.toString(), Integer.toString(n),
                Integer.toString(procs)));
        List<Path> parents = new ArrayList<>();
        for (Path p : driver.parentPaths()) {
            Path rel = Path.of("/sys/fs/cgroup").relativize(p);
            if (!usedHierarchies.contains(rel.getName(0).toString())) {
                continue; // a hierarchy Berth's containers do not use: no cgroup of theirs there
            }
            Path parent = p.resolveSibling(p.getFileName() + "-floor");
            parents.add(parent);
            cmd.add(rel.getName(0) + "=" + parent);
        }
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT);
        pb.environment().put("FLOOR_THREADS", Integer.toString(pool));
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes()).trim();
        int rc = p.waitFor();
        System.err.println(out);
        if (rc != 0) {
            throw new IllegalStateException("density-floor exited " + rc + ": " + out);
        }
        java.util.Map<String, String> f = new java.util.HashMap<>();
        for (String kv : out.split(" ")) {
            String[] x = kv.split("=", 2);
            f.put(x[0], x[1]);
        }
        List<String> left = new ArrayList<>();
        for (Path parent : parents) {
            if (Files.exists(parent)) {
                left.add(parent.toString());
            }
        }
        try (Stream<Path> s = Files.list(dir)) {
            s.forEach(x -> left.add(x.toString()));
        }
        Files.delete(dir);
        return new Floor(procs, n, Double.parseDouble(f.get("start_ms")), Double.parseDouble(f.get("total_ms")),
                Double.parseDouble(f.get("reaped_ms")), left.isEmpty() ? "nothing" : String.join(", ", left));
    }

    /** The cgroup hierarchies (v1 controller names, "unified") a container of the last berth() run was in. */
    static final java.util.Set<String> usedHierarchies = new java.util.TreeSet<>();

    /** Notes the hierarchies where the init's cgroup is one of the run's ("8:pids:/berth-density-1/d0"). */
    static void noteHierarchies(long init, String parent) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/" + init + "/cgroup"))) {
            String[] f = line.split(":", 3);
            if (f[2].contains("/" + parent + "/")) {
                usedHierarchies.add(f[1].isEmpty() ? "unified" : f[1].replace("name=", ""));
            }
        }
    }

    static String floorReport(List<Floor> floors, List<Result> results) {
        if (floors.isEmpty()) {
            return "";
        }
        StringBuilder b = new StringBuilder(String.format(Locale.ROOT, "%nThe floor (bench/density-floor.c, same run;"
                + " load average %s)%n%n| floor | start all s | last process reaped s | stop all s | left after stop |%n"
                + "|---|---:|---:|---:|---|%n", loadAverage()));
        for (Floor f : floors) {
            b.append(String.format(Locale.ROOT, "| %d processes a container | %.2f | %.2f | %.2f | %s |%n", f.procs(),
                    f.startMs() / 1000, f.reapedMs() / 1000, f.stopMs() / 1000, f.leftOver()));
        }
        b.append('\n');
        for (int procs : new int[] {3, 2}) {
            double best = floors.stream().filter(f -> f.procs() == procs).mapToDouble(Floor::stopMs).min().orElseThrow();
            double worst = floors.stream().filter(f -> f.procs() == procs).mapToDouble(Floor::stopMs).max().orElseThrow();
            for (Result r : results) {
                b.append(String.format(Locale.ROOT, "- %s / floor of %d processes: stop all %.2f to %.2f%n", r.name(),
                        procs, r.stopMs() / worst, r.stopMs() / best));
            }
        }
        return b.toString();
    }

    static String loadAverage() {
        try {
            String[] f = Files.readAllLines(Path.of("/proc/loadavg")).get(0).split(" ");
            return f[0] + " " + f[1] + " " + f[2];
        } catch (IOException e) {
            return "(unknown: " + e.getMessage() + ")";
        }
    }

    /** What a stop-all left behind: helper processes, cgroups, container directories, state. */
    static String leftOver(List<long[]> helpers, CgroupDriver driver, Path work) throws IOException {
        List<String> left = new ArrayList<>();
        long alive = helpers.stream().filter(h -> startTimeOrZero(h[0]) == h[1]).count();
        if (alive > 0) {
            left.add(alive + " berth-init processes");
        }
        if (!driver.list().isEmpty()) {
            left.add(driver.list().size() + " cgroups");
        }
        for (Path p : driver.parentPaths()) {
            try (Stream<Path> s = Files.list(p)) {
                long dirs = s.filter(Files::isDirectory).count();
                if (dirs > 0) {
                    left.add(dirs + " directories in " + p);
                }
            } catch (NoSuchFileException e) {
                // not made in this hierarchy: nothing left there either
            }
        }
        for (String dir : List.of("storage/containers", "state")) {
            Path d = work.resolve(dir);
            if (Files.isDirectory(d)) {
                try (Stream<Path> s = Files.list(d)) {
                    List<String> names = s.filter(Files::isDirectory).map(p -> p.getFileName().toString()).toList();
                    if (!names.isEmpty()) {
                        left.add(names.size() + " directories in " + dir + " (" + names.get(0) + ", ...)");
                    }
                }
            }
        }
        return left.isEmpty() ? "nothing" : String.join(", ", left);
    }

    // ---- conmon + runc ----

    static Result conmon(Path rootfs, Path work, int n, int pool) throws Exception {
        String name = "conmon + runc, k8s-file log (one line written)";
        System.err.printf(Locale.ROOT, "%s: starting %d%n", name, n);
        Path dir = Files.createDirectories(work.resolve("conmon"));
        Path runcRoot = dir.resolve("runc");
        Path template = StartLatencyBenchmark.runcBundle(rootfs, dir);
        Path config = template.resolve("config.json");
        String json = Files.readString(config).replace("\"args\": [\"/bin/true\"]", "\"args\": [\"/bin/busybox\", \"sh\", \"-c\", "
                + "\"echo ready; exec /bin/busybox sleep 3600\"]");
        if (!json.contains("busybox")) {
            throw new IllegalStateException("runc bundle: could not set the command in " + config);
        }
        Files.createDirectories(dir.resolve("exits"));
        Files.createDirectories(dir.resolve("sock"));
        long[] conmons = new long[n];
        int threadsBefore = threads();
        int osBefore = osThreads();
        long t0 = System.nanoTime();
        inPool(pool, n, i -> {
            // as podman runs it: conmon daemonizes, has runc create the container, and supervises it;
            // podman then starts it with runc start (without podman's sync pipe, the pid file says created)
            String id = "c" + i;
            Path c = Files.createDirectories(dir.resolve(id));
            Files.writeString(c.resolve("config.json"), json);
            run(List.of("conmon", "--api-version", "1", "-c", id, "-u", id, "-n", id, "-r", "/usr/bin/runc",
                    "-b", c.toString(), "-p", c.resolve("pid").toString(), "-0", c.toString(),
                    "-l", "k8s-file:" + c.resolve("ctr.log"), "--log-level", "error",
                    "--exit-dir", dir.resolve("exits").toString(), "--socket-dir-path", dir.resolve("sock").toString(),
                    "--conmon-pidfile", c.resolve("conmon.pid").toString(), "--runtime-arg", "--root=" + runcRoot));
            waitFor(c.resolve("pid"));
            run(List.of("runc", "--root", runcRoot.toString(), "start", id));
            waitFor(c.resolve("conmon.pid"));
            conmons[i] = Long.parseLong(Files.readString(c.resolve("conmon.pid")).trim());
        });
        double startMs = (System.nanoTime() - t0) / 1e6;
        Thread.sleep(2000);
        int threadsRunning = threads();
        int osRunning = osThreads();
        List<long[]> helpers = new ArrayList<>();
        long[] mem = new long[3];
        for (long pid : conmons) {
            if (!exe(pid).endsWith("/conmon")) {
                throw new IllegalStateException("pid " + pid + " is " + exe(pid) + ", not conmon");
            }
            helpers.add(new long[] {pid, startTime(pid)});
            add(mem, pid);
        }
        System.err.printf(Locale.ROOT, "%s: started in %.0f ms, %.1f KiB PSS a container; stopping%n", name, startMs,
                (double) mem[0] / n);
        // the files written at start are on the disk before the stop, as the floor's are: removing a file
        // whose blocks are written costs far more than removing one still in the page cache only
        run(List.of("sync"));
        t0 = System.nanoTime();
        inPool(pool, n, i -> {
            // podman stop (kill), conmon sees the exit and writes it, podman rm (runc delete)
            String id = "c" + i;
            run(List.of("runc", "--root", runcRoot.toString(), "kill", id, "KILL"));
            while (startTimeOrZero(conmons[i]) == helpers.get(i)[1]) {
                Thread.sleep(5);
            }
            run(List.of("runc", "--root", runcRoot.toString(), "delete", id));
        });
        double stopMs = (System.nanoTime() - t0) / 1e6;
        List<String> left = new ArrayList<>();
        long alive = helpers.stream().filter(h -> startTimeOrZero(h[0]) == h[1]).count();
        if (alive > 0) {
            left.add(alive + " conmon processes");
        }
        try (Stream<Path> s = Files.list(runcRoot)) {
            long dirs = s.filter(Files::isDirectory).count();
            if (dirs > 0) {
                left.add(dirs + " runc containers");
            }
        }
        return new Result(name, n, startMs, stopMs, Double.NaN, threadsBefore, threadsRunning, threads(), osBefore, osRunning,
                osThreads(), mem[0], mem[1], mem[2], helpers.size(), left.isEmpty() ? "nothing" : String.join(", ", left));
    }

    // ---- helpers ----

    @FunctionalInterface
    interface Task {
        void run(int i) throws Exception;
    }

    /**
     * Runs task(0..n-1) on {@code size} threads of its own, and joins them: they must be gone before
     * the JVM's threads are counted again.
     */
    static void inPool(int size, int n, Task task) throws InterruptedException {
        AtomicInteger next = new AtomicInteger();
        ConcurrentLinkedQueue<Throwable> failures = new ConcurrentLinkedQueue<>();
        List<Thread> threads = new ArrayList<>();
        for (int t = 0; t < size; t++) {
            Thread th = new Thread(() -> {
                for (int i; (i = next.getAndIncrement()) < n;) {
                    try {
                        task.run(i);
                    } catch (Throwable e) {
                        failures.add(e);
                        next.set(n); // stop: one failure makes the figures meaningless
                    }
                }
            });
            th.start();
            threads.add(th);
        }
        for (Thread t : threads) {
            t.join();
        }
        if (!failures.isEmpty()) {
            IllegalStateException e = new IllegalStateException(failures.size() + " failures", failures.peek());
            throw e;
        }
    }

    /** Live Java threads (daemon ones too). */
    static int threads() {
        return ManagementFactory.getThreadMXBean().getThreadCount();
    }

    /** The process's threads as the kernel counts them: GC and JIT compiler threads too. */
    static int osThreads() throws IOException {
        return (int) field(Path.of("/proc/self/status"), "Threads:");
    }

    static long ppid(long pid) throws IOException {
        return field(Path.of("/proc/" + pid + "/status"), "PPid:");
    }

    /** What it runs: berth-init runs from a sealed memfd, so its comm is the fd's number, its exe the memfd. */
    static String exe(long pid) {
        try {
            return Files.readSymbolicLink(Path.of("/proc/" + pid + "/exe")).toString();
        } catch (IOException e) {
            return "(gone)";
        }
    }

    /** Field 22 of /proc/PID/stat: with the pid, what identifies a process (a pid may be reused). */
    static long startTime(long pid) throws IOException {
        String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
        String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        return Long.parseLong(f[19]);
    }

    static long startTimeOrZero(long pid) {
        try {
            return startTime(pid);
        } catch (IOException e) {
            return 0;
        }
    }

    /** Adds the process's Pss, Pss_Anon and Rss (KiB) from smaps_rollup. */
    static void add(long[] mem, long pid) throws IOException {
        Path rollup = Path.of("/proc/" + pid + "/smaps_rollup");
        mem[0] += field(rollup, "Pss:");
        mem[1] += field(rollup, "Pss_Anon:");
        mem[2] += field(rollup, "Rss:");
    }

    static long field(Path file, String name) throws IOException {
        for (String line : Files.readAllLines(file)) {
            if (line.startsWith(name)) {
                return Long.parseLong(line.substring(name.length()).trim().split("\\s+")[0]);
            }
        }
        throw new IOException(name + " not in " + file);
    }

    static void run(List<String> cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .redirectError(ProcessBuilder.Redirect.INHERIT).start();
        if (p.waitFor() != 0) {
            throw new IllegalStateException(String.join(" ", cmd) + " exited " + p.exitValue());
        }
    }

    static void waitFor(Path file) throws InterruptedException {
        long deadline = System.nanoTime() + 60_000_000_000L;
        while (!Files.exists(file)) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException(file + ": not there after 60 s");
            }
            Thread.sleep(2);
        }
    }

    /** A copy of the root with the host's static busybox as /bin/busybox: the workload's shell, sleep and yes. */
    static Path rootfsWithBusybox(Path source, Path busybox, Path work) throws IOException, InterruptedException {
        Path rootfs = work.resolve("rootfs");
        run(List.of("cp", "-a", source.toString(), rootfs.toString()));
        Files.copy(busybox, rootfs.resolve("bin/busybox"));
        return rootfs;
    }

    /** The JVM's RLIMIT_NOFILE and RLIMIT_NPROC, and the kernel's pid and thread limits. */
    static String limits() throws IOException {
        List<String> out = new ArrayList<>();
        for (String line : Files.readAllLines(Path.of("/proc/self/limits"))) {
            if (line.startsWith("Max open files") || line.startsWith("Max processes")) {
                String[] f = line.trim().split("\\s{2,}");
                out.add(f[0].toLowerCase(Locale.ROOT) + " " + f[1] + "/" + f[2]);
            }
        }
        // readAllLines, not readString: procfs reports a size of 0, and readString of it came out cut short
        out.add("kernel.pid_max " + Files.readAllLines(Path.of("/proc/sys/kernel/pid_max")).get(0).trim());
        return String.join(", ", out);
    }

    static void delete(Path dir) {
        try (Stream<Path> s = Files.walk(dir)) {
            List<Path> all = new ArrayList<>(s.toList());
            Collections.reverse(all);
            for (Path p : all) {
                Files.deleteIfExists(p);
            }
        } catch (IOException | UncheckedIOException e) {
            System.err.println("leaving " + dir + ": " + e.getMessage());
        }
    }

    static boolean onPath(String cmd) {
        return Arrays.stream(System.getenv().getOrDefault("PATH", "/usr/bin:/bin").split(":"))
                .anyMatch(d -> Files.isExecutable(Path.of(d, cmd)));
    }

    static String report(List<Result> results, int pool, String limits) {
        StringBuilder b = new StringBuilder();
        int n = results.get(0).n();
        b.append(String.format(Locale.ROOT, "Density, %d idle containers at once under one JVM (conmon: %d), started and"
                + " closed from %d threads (%s, %d cores)%n%n", n, results.get(results.size() - 1).n(), pool, LocalDate.now(), Runtime.getRuntime().availableProcessors()));
        b.append("| configuration | start all s | stop all s | last exit known s | PSS KiB / container | of which anon | RSS KiB / container"
                + " | helper processes | JVM threads before / running / after | OS threads before / running / after"
                + " | left after stop |\n|---|---:|---:|---:|---:|---:|---:|---:|---|---|---|\n");
        for (Result r : results) {
            b.append(String.format(Locale.ROOT, "| %s | %.2f | %.2f | %s | %.1f | %.1f | %.1f | %d | %d / %d / %d | %d / %d / %d | %s |%n",
                    r.name(), r.startMs() / 1000, r.stopMs() / 1000, Double.isNaN(r.exitKnownMs()) ? "-"
                    : String.format(Locale.ROOT, "%.2f", r.exitKnownMs() / 1000), r.pssPerContainer(), (double) r.pssAnonKiB() / r.n(),
                    (double) r.rssKiB() / r.n(), r.helpers(), r.threadsBefore(), r.threadsRunning(), r.threadsAfter(),
                    r.osThreadsBefore(), r.osThreadsRunning(), r.osThreadsAfter(), r.leftOver()));
        }
        b.append('\n');
        Result captured = results.stream().filter(r -> r.name().startsWith("berth, log capture (one")).findFirst().orElse(null);
        Result bare = results.stream().filter(r -> r.name().equals("berth, no log capture")).findFirst().orElse(null);
        if (captured != null && bare != null) {
            b.append(String.format(Locale.ROOT, "- log capture adds %.1f KiB PSS a container (%.1f → %.1f)%n",
                    captured.pssPerContainer() - bare.pssPerContainer(), bare.pssPerContainer(), captured.pssPerContainer()));
        }
        for (Result r : results) {
            b.append(String.format(Locale.ROOT, "- %s: %.1f ms a container to start, %.1f ms to stop (wall time over N)%n",
                    r.name(), r.startMs() / r.n(), r.stopMs() / r.n()));
        }
        // per container: the peer may run fewer containers than Berth
        results.stream().filter(r -> r.name().startsWith("conmon") && captured != null).findFirst().ifPresent(c -> b.append(String.format(
                Locale.ROOT, "- berth with capture / conmon, per container: PSS %.2f, start %.2f, stop %.2f%n",
                captured.pssPerContainer() / c.pssPerContainer(), captured.startMs() / captured.n() / (c.startMs() / c.n()),
                captured.stopMs() / captured.n() / (c.stopMs() / c.n()))));
        b.append("- limits: ").append(limits).append('\n');
        return b.toString();
    }
}
