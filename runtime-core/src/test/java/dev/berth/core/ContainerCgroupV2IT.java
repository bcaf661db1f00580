package dev.berth.core;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.cgroups.CgroupMode;
import dev.berth.cgroups.OomEvent;
import dev.berth.cgroups.Resources;
import dev.berth.core.testing.ContainerTestSupport;
import dev.berth.testing.RequiresCgroupV2;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Containers on a real cgroup v2 kernel (the qemu VM of .ci/vm): clone3 straight into the
 * container's cgroup, limits enforced by the v2 controllers, OOM events from memory.events,
 * cgroup.kill and cleanup.
 */
@RequiresCgroupV2
class ContainerCgroupV2IT extends ContainerTestSupport {
    private static final long MIB = 1024 * 1024;

    @BeforeAll
    static void unified() {
        assertThat(runtime.cgroupDriver().orElseThrow().mode()).isEqualTo(CgroupMode.UNIFIED);
    }

    @Test
    void theInitIsClonedIntoTheContainersCgroup() throws Exception {
        try (Container c = runtime.start(probe("sleep", "30").build())) {
            String cgroup = Files.readString(Path.of("/proc/" + c.pid() + "/cgroup")).trim();
            assertThat(cgroup).startsWith("0::").endsWith("/berth/" + c.id());
            c.kill();
        }
        assertThat(output("cat", "/proc/self/cgroup")).isEqualTo("0::/\n");
    }

    @Test
    void aMemoryHogIsOomKilledAndReportedOnce() throws Exception {
        List<OomEvent> events = new CopyOnWriteArrayList<>();
        ExitStatus status;
        try (Container c = runtime.start(probe("hog", "200")
                .resources(Resources.builder().memoryMax(32 * MIB).memorySwap(32 * MIB).build()).build())) {
            c.onOom(events::add);
            status = c.onExit().get(120, TimeUnit.SECONDS);
        }
        assertThat(status.oomKilled()).isTrue();
        assertThat(status.shellCode()).isEqualTo(137);
        assertThat(events).filteredOn(e -> e.kind() == OomEvent.Kind.OOM_KILL).hasSize(1);
    }

    @Test
    void aPidsLimitContainsAForkBomb() throws Exception {
        Resources pids = Resources.builder().pidsMax(64).build();
        assertThat(run(probe("fork", "32").resources(pids)).stdout()).isEqualTo("started=32\n");
        int started = Integer.parseInt(run(probe("fork", "1000").resources(pids)).stdout().trim().substring(8));
        assertThat(started).isLessThanOrEqualTo(62).isGreaterThan(32);
    }

    @Test
    void pauseFreezesTheContainer() throws Exception {
        try (Container c = runtime.start(probe("spin").build())) {
            Thread.sleep(300);
            c.pause();
            long frozen = c.stats().cpu().usageUsec();
            Thread.sleep(700);
            assertThat(c.stats().cpu().usageUsec() - frozen).isLessThan(30_000);
            c.resume();
            Thread.sleep(700);
            assertThat(c.stats().cpu().usageUsec() - frozen).isGreaterThan(100_000);
        }
    }

    @Test
    void noCgroupIsLeftBehind() throws Exception {
        List<Path> before = ResourcesIT.cgroupDirectories();
        for (int i = 0; i < 20; i++) {
            try (Container c = runtime.start(probe().command("/bin/true")
                    .resources(Resources.builder().memoryMax(64 * MIB).pidsMax(32).build()).build())) {
                assertThat(c.onExit().get(60, TimeUnit.SECONDS)).isEqualTo(ExitStatus.exited(0));
            }
        }
        assertThat(ResourcesIT.cgroupDirectories()).isEqualTo(before);
    }
}
