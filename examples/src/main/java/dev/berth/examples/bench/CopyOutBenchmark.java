package dev.berth.examples.bench;

import dev.berth.core.Container;
import dev.berth.core.ContainerRuntime;
import dev.berth.core.ContainerSpec;
import dev.berth.core.Mount;
import dev.berth.core.Stdio;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;

/**
 * Copy out of a running container: a tree of 1,000 files (4 KiB each, in 40 directories), copied out with
 * {@code Container.files().copyOut} to a new host directory, N times, against {@code cp -a} of the same tree
 * between two host directories (the floor: no container, no archive) and the tar stream alone
 * ({@code copyFrom}, read to its end). Run as root it measures the JVM's direct reads; run as an ordinary user
 * with subordinate ids, every entry is opened by the reader in the user's namespace (docs/rootless.md).
 * Contenders run round-robin.
 *
 * <p>Usage: {@code CopyOutBenchmark ROOTFS [RUNS] [REPORT.md]}
 */
public final class CopyOutBenchmark {
    static final int DIRS = 40;
    static final int FILES = 1000;
    static final int SIZE = 4096;

    private record Contender(String name, Callable<Double> once) {}

    public static void main(String[] args) throws Exception {
        Path rootfs = Path.of(args[0]).toAbsolutePath();
        int runs = args.length > 1 ? Integer.parseInt(args[1]) : 30;
        Path work = Files.createTempDirectory("berth-copy-bench");
        boolean rootless = !System.getProperty("user.name").equals("root");
        try (ContainerRuntime runtime = ContainerRuntime.builder().stateRoot(work.resolve("state"))
                .storageRoot(work.resolve("storage")).build();
             Container c = runtime.start(ContainerSpec.builder().rootfs(rootfs).command("/bin/probe", "sleep", "3600")
                     .mount(Mount.tmpfs("/work", "size=64m")).stdout(Stdio.discard()).build())) {
            // a tmpfs of the container's: the rootfs directory is root's, and rootless its root is the user
            c.copyTo(Path.of("/work"), new ByteArrayInputStream(tree()));
            Path hostTree = Files.createDirectories(work.resolve("host-tree"));
            c.files().copyOut("/work/tree", hostTree.resolve("tree"));
            long[] made = {0};
            List<Contender> contenders = new ArrayList<>();
            contenders.add(new Contender("berth copyOut", () -> {
                Path dest = work.resolve("out-" + made[0]++);
                long t0 = System.nanoTime();
                c.files().copyOut("/work/tree", dest);
                double ms = (System.nanoTime() - t0) / 1e6;
                check(dest);
                delete(dest);
                return ms;
            }));
            contenders.add(new Contender("berth copyFrom (tar stream, read to its end)", () -> {
                long t0 = System.nanoTime();
                try (InputStream in = c.files().copyFrom("/work/tree")) {
                    in.transferTo(java.io.OutputStream.nullOutputStream());
                }
                return (System.nanoTime() - t0) / 1e6;
            }));
            contenders.add(new Contender("cp -a of the same tree on the host", () -> {
                Path dest = work.resolve("cp-" + made[0]++);
                long t0 = System.nanoTime();
                Process p = new ProcessBuilder("cp", "-a", hostTree.resolve("tree").toString(), dest.toString())
                        .inheritIO().start();
                if (p.waitFor() != 0) {
                    throw new IllegalStateException("cp -a failed");
                }
                double ms = (System.nanoTime() - t0) / 1e6;
                check(dest);
                delete(dest);
                return ms;
            }));
            int warmup = 5;
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
            String report = report(results, runs, rootless);
            System.out.print(report);
            if (args.length > 2) {
                Files.writeString(Path.of(args[2]), report);
            }
            c.kill();
        } finally {
            delete(work);
        }
    }

    /** The tree as a tar: DIRS directories of FILES / DIRS files of SIZE bytes each. */
    static byte[] tree() throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        byte[] data = new byte[SIZE];
        java.util.Arrays.fill(data, (byte) 'x');
        try (TarArchiveOutputStream t = new TarArchiveOutputStream(out)) {
            t.putArchiveEntry(new TarArchiveEntry("tree/"));
            t.closeArchiveEntry();
            for (int d = 0; d < DIRS; d++) {
                t.putArchiveEntry(new TarArchiveEntry("tree/d" + d + "/"));
                t.closeArchiveEntry();
                for (int f = 0; f < FILES / DIRS; f++) {
                    TarArchiveEntry e = new TarArchiveEntry("tree/d" + d + "/f" + f);
                    e.setSize(SIZE);
                    e.setMode(f % 2 == 0 ? 0600 : 0644);
                    t.putArchiveEntry(e);
                    t.write(data);
                    t.closeArchiveEntry();
                }
            }
        }
        return out.toByteArray();
    }

    private static void check(Path dest) throws IOException {
        try (var s = Files.walk(dest)) {
            long files = s.filter(Files::isRegularFile).count();
            if (files != FILES) {
                throw new IllegalStateException(dest + ": " + files + " files copied, not " + FILES);
            }
        }
    }

    static void delete(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        Files.walkFileTree(dir, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult visitFile(Path f, BasicFileAttributes a) throws IOException {
                Files.delete(f);
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult postVisitDirectory(Path d, IOException e) throws IOException {
                Files.delete(d);
                return FileVisitResult.CONTINUE;
            }
        });
    }

    static String report(Map<String, Stats> results, int runs, boolean rootless) {
        StringBuilder b = new StringBuilder();
        b.append(String.format(Locale.ROOT, "Copy out of a running container, %s, %d runs of a tree of %d files (%d KiB"
                + " each) in %d directories, contenders round-robin (%s, %d cores)%n%n", rootless
                ? "rootless (every entry opened by the reader in the user's namespace)" : "as root (direct reads)",
                runs, FILES, SIZE / 1024, DIRS, LocalDate.now(), Runtime.getRuntime().availableProcessors()));
        b.append("| contender | p50 ms | p90 ms | min ms |\n|---|---:|---:|---:|\n");
        results.forEach((name, x) -> b.append(String.format(Locale.ROOT, "| %s | %.1f | %.1f | %.1f |%n", name,
                x.p50(), x.p90(), x.min())));
        b.append(String.format(Locale.ROOT, "%n- berth copyOut p50 / cp -a p50 = %.2f%n",
                results.get("berth copyOut").p50() / results.get("cp -a of the same tree on the host").p50()));
        return b.toString();
    }
}
