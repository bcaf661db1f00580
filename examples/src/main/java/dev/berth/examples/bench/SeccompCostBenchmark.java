package dev.berth.examples.bench;

import dev.berth.core.Capability;
import dev.berth.core.Seccomp;
import dev.berth.core.internal.linux.Libseccomp;
import dev.berth.core.internal.plan.Op;
import dev.berth.core.internal.plan.OpCode;
import dev.berth.core.internal.plan.Plan;
import dev.berth.core.internal.seccomp.BpfProgram;
import dev.berth.core.internal.seccomp.ProfileParser;
import dev.berth.core.internal.seccomp.ProfileResolver;
import dev.berth.core.internal.seccomp.ResolvedFilter;
import dev.berth.core.internal.seccomp.SeccompCompiler;
import dev.berth.core.internal.seccomp.SeccompProfile;
import dev.berth.core.internal.seccomp.SeccompPrograms;
import dev.berth.linux.internal.Arch;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * The default seccomp filter's cost on a start, step by step where it is incurred: the Java compile
 * (cold, warm, and the cache's lookup that a start actually pays), the plan's bytes for the program and
 * their encoding, the kernel's {@code seccomp()} load in a fresh process (timed by {@code seccomp-cost.c}),
 * a fork-exec-exit of a static {@code true} with and without the filter, and a syscall's cost under it.
 * Each kernel figure is paired (two variants back to back, order alternating) and given as the median of
 * the differences with a bootstrap 95% interval. It reaches into {@code dev.berth.core.internal}: these
 * steps have no public API. The program before the range dispatch (libseccomp's alone) is measured beside
 * the one Berth loads.
 *
 * <p>Usage: {@code SeccompCostBenchmark HARNESS TRUE PAIRS [REPORT.md]} (see {@code examples/bench/seccomp-cost.sh})
 */
public final class SeccompCostBenchmark {

    public static void main(String[] args) throws Exception {
        Path harness = Path.of(args[0]);
        Path trueBin = Path.of(args[1]);
        int pairs = Integer.parseInt(args[2]);
        StringBuilder out = new StringBuilder();
        out.append(String.format(Locale.ROOT, "Default seccomp filter, step by step (%s, %d cores, load average %s)%n%n",
                LocalDate.now(), Runtime.getRuntime().availableProcessors(), StartLatencyBenchmark.loadAverage()));

        String json;
        try (InputStream in = Seccomp.class.getResourceAsStream("/dev/berth/core/seccomp/default.json")) {
            json = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        SeccompProfile profile = ProfileParser.parse("default", json);
        Set<Capability> caps = Capability.dockerDefaults();
        Arch arch = Arch.current();
        String kernel = System.getProperty("os.version");

        // Java: the first compile (libseccomp loaded through JNA), then warm compiles, then the cache
        long t0 = System.nanoTime();
        Libseccomp lib = new Libseccomp();
        SeccompCompiler compiler = new SeccompCompiler(lib);
        SeccompPrograms programs = new SeccompPrograms(compiler, arch, kernel);
        BpfProgram program = programs.program(profile, caps);
        double cold = (System.nanoTime() - t0) / 1e6;
        ResolvedFilter filter = ProfileResolver.resolve(profile, caps, arch, kernel);
        BpfProgram before = compiler.compileWithoutDispatch(filter);
        double[] warm = new double[30];
        double[] warmPlain = new double[30];
        for (int i = -5; i < warm.length; i++) {
            long a = System.nanoTime();
            compiler.compile(ProfileResolver.resolve(profile, caps, arch, kernel));
            long b = System.nanoTime();
            compiler.compileWithoutDispatch(ProfileResolver.resolve(profile, caps, arch, kernel));
            long c = System.nanoTime();
            if (i >= 0) {
                warm[i] = (b - a) / 1e6;
                warmPlain[i] = (c - b) / 1e6;
            }
        }
        SeccompProfile again = ProfileParser.parse("default", json);
        double hit = perCall(() -> programs.program(profile, caps));
        double hitEqual = perCall(() -> programs.program(again, caps));

        // the plan: the SECCOMP op's bytes and the encoding of a plan that carries it
        Op clone = Op.of(OpCode.CLONE, 0L);
        int base = new Plan(List.of(clone)).encode().length;
        int bytesBefore = new Plan(List.of(clone, Op.seccomp("default", before))).encode().length - base;
        int bytesAfter = new Plan(List.of(clone, Op.seccomp("default", program))).encode().length - base;
        double encodeBefore = perCall(() -> new Plan(List.of(clone, Op.seccomp("default", before))).encode()) / 1e3;
        double encodeAfter = perCall(() -> new Plan(List.of(clone, Op.seccomp("default", program))).encode()) / 1e3;

        out.append("| step | figure |\n|---|---:|\n");
        out.append(row("program: libseccomp's (binary tree, behind the ENOSYS stub)", before.length() + " instructions"));
        out.append(row("program: with the range dispatch (what Berth loads)", program.length() + " instructions"));
        out.append(row("Java: first compile in a JVM (loads libseccomp; once per runtime, on a thread of its own)",
                fmt(cold) + " ms"));
        out.append(row("Java: compile, warm, median of 30 (libseccomp alone / with the dispatch)",
                fmt(PairedStats.median(warmPlain)) + " / " + fmt(PairedStats.median(warm)) + " ms"));
        out.append(row("Java: a start's lookup of the cached program (same profile object / an equal one)",
                fmt(hit) + " / " + fmt(hitEqual) + " ns"));
        out.append(row("plan: the SECCOMP op's bytes (before / after)", bytesBefore + " / " + bytesAfter + " B"));
        out.append(row("plan: encoding a plan with it (before / after)", fmt(encodeBefore) + " / " + fmt(encodeAfter)
                + " µs"));

        // the kernel: programs as files for the C harness
        Path dir = Files.createTempDirectory("berth-seccomp-cost");
        try {
            Path old = write(dir.resolve("libseccomp.bin"), before);
            Path now = write(dir.resolve("berth.bin"), program);
            Path one = write(dir.resolve("allow.bin"), new BpfProgram(new long[] {BpfProgram.insn(0x06, 0, 0, 0x7fff0000L)}, 0));
            List<String> syscalls = run(List.of(harness.toString(), "syscall", now.toString(), "200000"));
            out.append('\n').append(String.format(Locale.ROOT,
                    "%d pairs each, back to back, order alternating; ms; difference = first − second%n%n", pairs));
            out.append("| kernel | median, first | median, second | median difference | 95% interval |\n"
                    + "|---|---:|---:|---:|---:|\n");
            out.append(paired("seccomp() load: libseccomp's program − Berth's", run(List.of(harness.toString(), "load",
                    old.toString(), now.toString(), Integer.toString(pairs)))));
            out.append(paired("seccomp() load: Berth's program − a 1-instruction allow-all (every filter's fixed cost)",
                    run(List.of(harness.toString(), "load", now.toString(), one.toString(), Integer.toString(pairs)))));
            out.append(paired("fork, exec, exit of a static true: Berth's filter − none", run(List.of(harness.toString(),
                    "exec", now.toString(), trueBin.toString(), Integer.toString(pairs)))));
            out.append(paired("fork, exec, exit of a static true: a 1-instruction allow-all − none (any filter's floor)",
                    run(List.of(harness.toString(), "exec", one.toString(), trueBin.toString(), Integer.toString(pairs)))));
            out.append(paired("fork, exec, exit of a static true: libseccomp's program − none", run(List.of(
                    harness.toString(), "exec", old.toString(), trueBin.toString(), Integer.toString(pairs)))));
            String[] ns = syscalls.get(0).trim().split("\\s+");
            out.append(String.format(Locale.ROOT, "%nPer syscall under Berth's filter (200,000 calls, ns): getppid %s"
                    + " (none: %s; the kernel's action cache answers it without running the program), "
                    + "personality(0xffffffff) %s (none: %s; an argument test: the program runs)%n", ns[0], ns[1], ns[2], ns[3]));
            out.append(syscallCount(trueBin));
        } finally {
            try (var s = Files.list(dir)) {
                for (Path p : s.toList()) {
                    Files.delete(p);
                }
            }
            Files.delete(dir);
        }
        System.out.print(out);
        if (args.length > 3) {
            Files.writeString(Path.of(args[3]), out.toString());
        }
    }

    /** Nanoseconds per call, the median of 200 batches of 1,000 calls after 50 batches of warm-up. */
    static double perCall(Runnable r) {
        double[] batches = new double[200];
        for (int b = -50; b < batches.length; b++) {
            long t0 = System.nanoTime();
            for (int i = 0; i < 1000; i++) {
                r.run();
            }
            if (b >= 0) {
                batches[b] = (System.nanoTime() - t0) / 1000.0;
            }
        }
        return PairedStats.median(batches);
    }

    static Path write(Path file, BpfProgram p) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(8 * p.length()).order(ByteOrder.LITTLE_ENDIAN);
        for (long insn : p.instructions()) {
            b.putLong(insn);
        }
        return Files.write(file, b.array());
    }

    static List<String> run(List<String> cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        List<String> lines = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).lines().toList();
        if (p.waitFor() != 0) {
            throw new IllegalStateException(String.join(" ", cmd) + " exited " + p.exitValue());
        }
        return lines;
    }

    static String paired(String what, List<String> lines) {
        double[] a = new double[lines.size()];
        double[] b = new double[lines.size()];
        for (int i = 0; i < lines.size(); i++) {
            String[] f = lines.get(i).trim().split("\\s+");
            a[i] = Long.parseLong(f[0]) / 1e6;
            b[i] = Long.parseLong(f[1]) / 1e6;
        }
        PairedStats s = PairedStats.of(a, b, 7);
        return String.format(Locale.ROOT, "| %s | %.3f | %.3f | %+.3f | %+.3f to %+.3f |%n", what, s.medianA(), s.medianB(),
                s.medianDiff(), s.low95(), s.high95());
    }

    /** The syscalls the static true makes after its exec (strace, when installed). */
    static String syscallCount(Path trueBin) throws IOException, InterruptedException {
        if (!Files.isExecutable(Path.of("/usr/bin/strace"))) {
            return "";
        }
        Path log = Files.createTempFile("berth-strace", ".txt");
        try {
            Process p = new ProcessBuilder("/usr/bin/strace", "-qq", "-o", log.toString(), trueBin.toString())
                    .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            if (p.waitFor() != 0) {
                return "";
            }
            List<String> calls = new ArrayList<>();
            for (String l : Files.readAllLines(log)) {
                int paren = l.indexOf('(');
                if (paren > 0 && !l.startsWith("+++")) {
                    calls.add(l.substring(0, paren));
                }
            }
            return String.format(Locale.ROOT, "%nThe static true makes %d syscalls from its exec on: %s%n", calls.size(),
                    String.join(", ", calls));
        } finally {
            Files.deleteIfExists(log);
        }
    }

    private static String row(String step, String figure) {
        return "| " + step + " | " + figure + " |\n";
    }

    private static String fmt(double v) {
        return String.format(Locale.ROOT, v >= 100 ? "%.0f" : v >= 10 ? "%.1f" : "%.2f", v);
    }
}
