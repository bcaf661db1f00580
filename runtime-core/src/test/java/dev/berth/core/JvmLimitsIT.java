package dev.berth.core;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.cgroups.Resources;
import dev.berth.core.testing.ContainerTestSupport;
import dev.berth.core.testing.TestRootfs;
import dev.berth.testing.RequiresCgroups;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * A JVM inside a container sizes itself by the container's limits, read from its own cgroup at
 * /sys/fs/cgroup (the JDK's container support), and finds its own host name. The root is
 * {@link TestRootfs#jdk()}: this build's JDK and the libraries it loads, nothing else (no network,
 * no distribution image). {@code JvmLimitsV2IT} runs the same on the cgroup v2 VM.
 */
@RequiresCgroups
class JvmLimitsIT extends ContainerTestSupport {
    private static final long MIB = 1024 * 1024;
    private static final Pattern MAX_HEAP = Pattern.compile("(?m)^\\s*size_t MaxHeapSize\\s+=\\s+(\\d+)\\s");

    /** The JDK's own ergonomics for this much memory and one CPU, as the host's java computes them. */
    private static long ergonomicMaxHeap(Path java, long memory) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(java.toString(), "-XX:MaxRAM=" + memory, "-XX:ActiveProcessorCount=1",
                "-XX:-UsePerfData", "-XX:+PrintFlagsFinal", "-version").redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
        Matcher m = MAX_HEAP.matcher(out);
        assertThat(m.find()).as(out).isTrue();
        return Long.parseLong(m.group(1));
    }

    @Test
    void aJvmWithMemory256mAndOneCpuSizesItselfByThemAndResolvesItsOwnName() throws Exception {
        String java = TestRootfs.jdkJava();
        long memory = 256 * MIB;
        Result r = run(ContainerSpec.builder().rootfs(TestRootfs.jdk()).readonlyRootfs(true) // its files are the host's
                .hostname("jvm-inside")
                .command(java, "-XX:-UsePerfData", "-XX:+PrintFlagsFinal", "-cp", "/opt/berth", "JvmInside")
                .resources(Resources.builder().memoryMax(memory).cpus(1).build())
                .stdout(Stdio.pipe()).stderr(Stdio.inherit()));
        assertThat(r.status()).as(r.stdout()).isEqualTo(ExitStatus.exited(0));
        Matcher heap = MAX_HEAP.matcher(r.stdout());
        assertThat(heap.find()).as(r.stdout()).isTrue();
        long maxHeap = Long.parseLong(heap.group(1));
        List<String> report = r.stdout().lines().filter(l -> l.matches("(availableProcessors|maxMemory|localHost).*")).toList();
        System.out.println("JVM inside a container with 256 MiB and 1 CPU (" + getClass().getSimpleName() + "): MaxHeapSize="
                + maxHeap + " (" + maxHeap / MIB + " MiB), " + String.join(", ", report));
        assertThat(report).contains("availableProcessors=1", "localHost=jvm-inside/127.0.0.1");
        // what the JDK's ergonomics give for 256 MiB (JDK 17: 126 MiB, at most half the memory), not the host's RAM
        assertThat(maxHeap).isEqualTo(ergonomicMaxHeap(Path.of(java), memory))
                .isLessThanOrEqualTo(memory / 2);
    }
}
