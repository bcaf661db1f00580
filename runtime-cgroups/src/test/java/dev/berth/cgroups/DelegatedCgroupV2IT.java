package dev.berth.cgroups;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.cgroups.testing.DelegatedUserMain;
import dev.berth.testing.DelegatedCgroup;
import dev.berth.testing.RequiresCgroupV2;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Rootless cgroups on a real cgroup v2 kernel (the VM suite, as root): a cgroup is delegated to the
 * unprivileged user berth-rootless the way systemd's Delegate=yes does (the directory and its
 * cgroup.procs, cgroup.subtree_control and cgroup.threads chowned; memory and pids enabled above it,
 * cpu not), and a child JVM run as that user inside it ({@link DelegatedUserMain}) finds the
 * delegation, refuses --cpus naming the controller, enforces a memory and a pids limit through the
 * unprivileged driver, and leaves nothing but the leaf it moved itself into.
 */
@RequiresCgroupV2
class DelegatedCgroupV2IT {
  @TempDir Path tmp;

  @Test
  void aDelegatedUserEnforcesMemoryAndPidsLimitsAndCleansUp() throws Exception {
    try (DelegatedCgroup d = DelegatedCgroup.create("berth-rootless", "memory", "pids")) { // cpu is not delegated
      Path user = d.dir;
      DelegatedCgroup.Run run = d.runJava(DelegatedCgroup.copyClassPath(tmp.resolve("cp")),
          Files.createDirectory(tmp.resolve("home")), DelegatedUserMain.class.getName(), List.of(), 300);
      String out = run.output();
      assertThat(run.exitCode()).as(out).isZero();
      Map<String, String> facts = new LinkedHashMap<>();
      for (String line : out.split("\n")) {
        int eq = line.indexOf('=');
        if (eq > 0) facts.putIfAbsent(line.substring(0, eq), line.substring(eq + 1));
      }
      String found = user + " (controllers: memory pids)";
      assertThat(facts).as(out)
          .containsEntry("euid", Long.toString(d.uid))
          .containsEntry("delegated", "true")
          .containsEntry("finding", found)
          .containsEntry("refusal.cpus", "rootless: --cpus needs the cgroup v2 controller 'cpu', which is not delegated"
              + " to uid " + d.uid + " (" + found + "; add it to Delegate= of the unit; see docs/rootless.md)")
          .containsEntry("refusal.memory", "none")
          .containsEntry("devicePolicy", "false")
          .containsEntry("cgroup", user.resolve("berth/hog").toString())
          .containsEntry("memory.max", Long.toString(32L << 20))
          .containsEntry("pids.max", "16")
          .containsEntry("hog.exit", Integer.toString(128 + 9))
          .containsEntry("bomb.forkFailed", "true")
          .containsEntry("parentLeft", "false");
      assertThat(Long.parseLong(facts.get("oom_kill"))).as("the hog was OOM-killed in its cgroup").isPositive();
      assertThat(facts.get("bomb.exit")).as("the fork loop stopped short of 100").isNotEqualTo("0");
      assertThat(Integer.parseInt(facts.get("bomb.pids"))).as("the fork bomb held at pids.max").isBetween(2, 16);
      assertThat(out).contains("\nok\n");
      // what is left: the leaf the child moved itself into (now empty), and the controllers it enabled
      try (Stream<Path> s = Files.list(user)) {
        assertThat(s.filter(Files::isDirectory).map(x -> x.getFileName().toString())).containsExactly("supervisor");
      }
      assertThat(Files.readString(user.resolve("supervisor/cgroup.procs"))).isBlank();
      assertThat(Files.readString(user.resolve("cgroup.subtree_control")).trim().split(" ")).contains("memory", "pids");
      assertThat(Files.readString(d.top.resolve("cgroup.subtree_control")).trim()).isEqualTo("memory pids");
    }
  }
}
