package dev.berth.core;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.testing.Preconditions;
import dev.berth.cgroups.CgroupStats;
import dev.berth.cgroups.OomEvent;
import dev.berth.cgroups.Resources;
import dev.berth.core.testing.ContainerTestSupport;
import dev.berth.testing.RequiresCgroups;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * cgroup limits through the container API, on this host's cgroups (v1 controllers on a
 * hybrid host, v2 where it is unified): the same runtime code the v2 VM suite runs.
 */
@RequiresCgroups
class ResourcesIT extends ContainerTestSupport {
    private static final long MIB = 1024 * 1024;

    @BeforeAll
    static void setUp() {
        Preconditions.require(runtime.cgroupDriver().isPresent(),
                "the runtime found no cgroup driver on a host with cgroups mounted");
    }

    @Test
    void aMemoryHogAboveTheLimitIsOomKilledAndReportedOnce() throws Exception {
        List<OomEvent> events = new CopyOnWriteArrayList<>();
        ContainerSpec spec = probe("hog", "200")
                .resources(Resources.builder().memoryMax(32 * MIB).memorySwap(32 * MIB).build()).build();
        ExitStatus status;
        try (Container c = runtime.start(spec)) {
            c.onOom(events::add);
            status = c.onExit().get(60, TimeUnit.SECONDS);
        }
        assertThat(status.oomKilled()).isTrue();
        assertThat(status.terminatingSignal()).hasValue(9);
        assertThat(status.shellCode()).isEqualTo(137);
        assertThat(events).filteredOn(e -> e.kind() == OomEvent.Kind.OOM_KILL).hasSize(1);
    }

    @Test
    void withinTheLimitNothingIsOomKilled() throws Exception {
        ContainerSpec spec = probe("hog", "8").resources(Resources.builder().memoryMax(64 * MIB).build()).build();
        Result r = run(spec.toBuilder());
        assertThat(r.status()).isEqualTo(ExitStatus.exited(0));
        assertThat(r.stdout()).isEqualTo("allocated 8 MiB\n");
    }

    /** The pids.max the kernel holds for the container's cgroup. */
    private static String pidsMaxOf(Container c) throws Exception {
        for (Path dir : runtime.cgroupDriver().orElseThrow().open(c.id()).orElseThrow().paths()) {
            if (Files.exists(dir.resolve("pids.max"))) {
                return Files.readString(dir.resolve("pids.max")).trim();
            }
        }
        throw new AssertionError("no pids.max in the cgroup of " + c.id());
    }

    @Test
    void aDefaultPidsLimitAppliesUnlessTheSpecSetsOne() throws Exception {
        try (Container c = runtime.start(probe("sleep", "30").build())) {
            assertThat(pidsMaxOf(c)).isEqualTo(Long.toString(ContainerRuntime.DEFAULT_PIDS_LIMIT));
            c.kill();
        }
        try (Container c = runtime.start(probe("sleep", "30").resources(Resources.builder().pidsMax(100).build()).build())) {
            assertThat(pidsMaxOf(c)).isEqualTo("100");
            c.kill();
        }
        try (Container c = runtime.start(probe("sleep", "30").resources(Resources.builder().pidsMax(-1).build()).build())) {
            assertThat(pidsMaxOf(c)).isEqualTo("max");
            c.kill();
        }
    }

    @Test
    void aPidsLimitContainsAForkBombWhile32ProcessesStartFine() throws Exception {
        Resources pids = Resources.builder().pidsMax(64).build();
        assertThat(run(probe("fork", "32").resources(pids)).stdout()).isEqualTo("started=32\n");
        String bomb = run(probe("fork", "1000").resources(pids)).stdout();
        int started = Integer.parseInt(bomb.trim().substring("started=".length()));
        // init, the probe itself and at most 62 children fit under 64
        assertThat(started).isLessThanOrEqualTo(62).isGreaterThan(32);
    }

    @Test
    void halfACpuMeasuresAsHalfACpu() throws Exception {
        ContainerSpec spec = probe("spin").resources(Resources.builder().cpus(0.5).build()).build();
        try (Container c = runtime.start(spec)) {
            Thread.sleep(300);
            CgroupStats.Cpu before = c.stats().cpu();
            long t0 = System.nanoTime();
            Thread.sleep(2000);
            CgroupStats.Cpu after = c.stats().cpu();
            double wallUs = (System.nanoTime() - t0) / 1000.0;
            double share = (after.usageUsec() - before.usageUsec()) / wallUs;
            assertThat(share).isBetween(0.35, 0.65);
            assertThat(after.nrThrottled()).isGreaterThan(before.nrThrottled());
        }
    }

    @Test
    void pauseStopsProgressAndResumeContinuesIt() throws Exception {
        try (Container c = runtime.start(probe("spin").build())) {
            Thread.sleep(200);
            c.pause();
            long frozenAt = c.stats().cpu().usageUsec();
            Thread.sleep(500);
            assertThat(c.stats().cpu().usageUsec() - frozenAt).isLessThan(20_000);
            c.resume();
            Thread.sleep(500);
            assertThat(c.stats().cpu().usageUsec() - frozenAt).isGreaterThan(100_000);
        }
    }

    @Test
    void closingAPausedContainerKillsIt() throws Exception {
        Container c = runtime.start(probe("sleep", "60").build());
        c.pause();
        c.close();
        assertThat(c.onExit().join()).isEqualTo(ExitStatus.killed(9));
    }

    @Test
    void statsReportMemoryAndPids() throws Exception {
        Resources limits = Resources.builder().memoryMax(64 * MIB).pidsMax(100).build();
        try (Container c = runtime.start(probe("wait-signal").resources(limits).build())) {
            BufferedReader out = new BufferedReader(new InputStreamReader(c.stdout(), StandardCharsets.UTF_8));
            assertThat(out.readLine()).isEqualTo("ready");
            CgroupStats s = c.stats();
            assertThat(s.pids()).isEqualTo(2); // init and target
            assertThat(s.memory().current()).isPositive();
            c.kill();
        }
    }

    @Test
    void theProcessesStartInsideTheirCgroup() throws Exception {
        Resources limits = Resources.builder().memoryMax(64 * MIB).pidsMax(100).build();
        // the target's own view: its cgroup namespace is rooted at the container's cgroup
        String cgroup = run(probe("cat", "/proc/self/cgroup").resources(limits)).stdout();
        assertThat(cgroup.lines()).filteredOn(l -> l.contains(":memory:") || l.contains(":pids:") || l.startsWith("0::"))
                .hasSizeGreaterThanOrEqualTo(2).allMatch(l -> l.endsWith(":/"));
        try (Container c = runtime.start(probe("sleep", "30").resources(limits).build())) {
            String host = Files.readString(Path.of("/proc/" + c.pid() + "/cgroup"));
            int checked = 0;
            for (String line : host.strip().split("\n")) {
                String[] f = line.split(":", 3);
                if (f[1].equals("memory") || f[1].equals("pids") || f[0].equals("0")) {
                    assertThat(f[2]).as(line).endsWith("/berth/" + c.id());
                    checked++;
                }
            }
            assertThat(checked).isGreaterThanOrEqualTo(2);
            c.kill();
        }
    }

    @Test
    void withoutLimitsAContainerIsStillTrackedInItsOwnCgroup() throws Exception {
        try (Container c = runtime.start(probe("spin").build())) {
            String host = Files.readString(Path.of("/proc/" + c.pid() + "/cgroup"));
            // v2 (on a hybrid host the unified hierarchy) tracks it; CPU usage comes from there
            assertThat(host.lines()).filteredOn(l -> l.startsWith("0::")).singleElement().asString()
                    .endsWith("/berth/" + c.id());
            Thread.sleep(300);
            assertThat(c.stats().cpu().usageUsec()).isPositive();
            c.kill();
        }
    }

    @Test
    void noCgroupIsLeftAfterAHundredRuns() throws Exception {
        Resources limits = Resources.builder().memoryMax(64 * MIB).pidsMax(32).build();
        List<String> ids = new java.util.ArrayList<>();
        for (int i = 0; i < 100; i++) {
            try (Container c = runtime.start(probe().command("/bin/true").resources(limits).build())) {
                ids.add(c.id());
                assertThat(c.onExit().get(30, TimeUnit.SECONDS)).isEqualTo(ExitStatus.exited(0));
            }
        }
        // the parents are shared with whatever else runs containers on this host: look for ours only
        assertThat(cgroupDirectories()).noneMatch(d -> ids.contains(d.getFileName().toString()));
    }

    /** Every cgroup directory below the runtime's parents (shared with anything else on the host). */
    static List<Path> cgroupDirectories() throws Exception {
        List<Path> out = new java.util.ArrayList<>();
        for (Path parent : runtime.cgroupDriver().orElseThrow().parentPaths()) {
            if (!Files.isDirectory(parent)) {
                continue; // parents are created with the first container cgroup
            }
            try (Stream<Path> s = Files.list(parent)) {
                s.filter(Files::isDirectory).sorted().forEach(out::add);
            }
        }
        return out;
    }
}
