package dev.berth.cgroups.testing;

import dev.berth.cgroups.Cgroup;
import dev.berth.cgroups.CgroupDriver;
import dev.berth.cgroups.Delegation;
import dev.berth.cgroups.Resources;
import dev.berth.linux.internal.ProcStatus;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The child JVM of {@code DelegatedCgroupV2IT}: runs as an ordinary user inside a cgroup delegated to
 * it (as systemd's Delegate=yes does), and does what rootless Berth does there: detects the
 * delegation, refuses a limit whose controller was not delegated, creates a cgroup with memory and
 * pids limits through the unprivileged driver, proves they hold (a memory hog is OOM-killed, a fork
 * bomb is stopped), and removes everything it made. Prints one {@code key=value} per fact; the
 * parent asserts them. Exits non-zero on any failure.
 */
public final class DelegatedUserMain {
  private DelegatedUserMain() {}

  public static void main(String[] args) throws Exception {
    long euid = ProcStatus.effectiveUid();
    System.out.println("euid=" + euid);
    Delegation d = Delegation.detect(euid);
    System.out.println("delegated=" + d.delegated());
    System.out.println("finding=" + d.finding());
    System.out.println("refusal.cpus=" + d.refusal(Resources.builder().cpus(0.5).build()).orElse("none"));
    System.out.println("refusal.memory=" + d.refusal(Resources.builder().memoryMax(32L << 20).pidsMax(16).build())
        .orElse("none"));
    Resources limits = Resources.builder().memoryMax(32L << 20).memorySwap(32L << 20).pidsMax(16).build();
    Path parent;
    try (CgroupDriver driver = CgroupDriver.detect(CgroupDriver.Options.builder().unprivileged(true)
        .moveSelfToLeaf(true).selfLeafName("supervisor").build())) {
      parent = driver.parentPaths().get(0);
      System.out.println("devicePolicy=" + driver.devicePolicySupported());
      try (Cgroup cg = driver.create("hog", limits)) {
        Path dir = cg.unifiedPath().orElseThrow();
        System.out.println("cgroup=" + dir);
        System.out.println("memory.max=" + Files.readString(dir.resolve("memory.max")).trim());
        System.out.println("pids.max=" + Files.readString(dir.resolve("pids.max")).trim());
        try (Workload hog = Workload.startIn(cg, "exec awk 'BEGIN { s = \"x\"; while (1) { s = s s; t[n++] = s } }'")) {
          System.out.println("hog.exit=" + hog.waitFor(120));
        }
        System.out.println("oom_kill=" + cg.oomKillCount());
        cg.killAll();
      }
      try (Cgroup cg = driver.create("bomb", limits);
          Workload bomb = Workload.startIn(cg, "i=0; while [ $i -lt 100 ]; do sleep 60 & i=$((i+1)); done; echo done; wait")) {
        // the shell gives up at its first failed fork ("Cannot fork"); its children stay in the cgroup
        System.out.println("bomb.exit=" + bomb.waitFor(120));
        System.out.println("bomb.pids=" + cg.pids().size());
        System.out.println("bomb.forkFailed=" + bomb.err.stream().anyMatch(l -> l.toLowerCase().contains("fork")));
        cg.killAll();
      }
    }
    System.out.println("parentLeft=" + Files.exists(parent));
    System.out.println("ok");
  }
}
