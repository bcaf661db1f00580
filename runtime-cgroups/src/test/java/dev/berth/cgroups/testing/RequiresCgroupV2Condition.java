package dev.berth.cgroups.testing;

import dev.berth.cgroups.internal.linux.LinuxSyscalls;
import dev.berth.cgroups.internal.linux.Syscalls;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.extension.ConditionEvaluationResult;
import org.junit.jupiter.api.extension.ExecutionCondition;
import org.junit.jupiter.api.extension.ExtensionContext;

/** {@link ExecutionCondition} of {@link RequiresCgroupV2}. */
public final class RequiresCgroupV2Condition implements ExecutionCondition {
  static final List<String> NEEDED = List.of("memory", "pids", "cpu", "io");

  /** null when this is a usable cgroup v2 host, else why not. */
  public static String reason() {
    String root = RequiresRootCondition.notRootReason();
    if (root != null) return root;
    Path cg = Paths.get("/sys/fs/cgroup");
    long magic;
    try {
      magic = LinuxSyscalls.get().statfsType(cg.toString());
    } catch (RuntimeException | LinkageError e) {
      return "requires cgroup v2: statfs(/sys/fs/cgroup) failed: " + e.getMessage();
    }
    if (magic != Syscalls.CGROUP2_SUPER_MAGIC) {
      return String.format("requires cgroup v2: /sys/fs/cgroup is not cgroup2 (statfs magic 0x%x, want 0x63677270)", magic);
    }
    Set<String> have;
    try {
      have = new TreeSet<>(Arrays.asList(Files.readString(cg.resolve("cgroup.controllers")).trim().split("\\s+")));
    } catch (IOException e) {
      return "requires cgroup v2: cannot read /sys/fs/cgroup/cgroup.controllers: " + e;
    }
    if (!have.containsAll(NEEDED)) {
      return "requires cgroup v2 with controllers " + NEEDED + " in /sys/fs/cgroup/cgroup.controllers, have " + have;
    }
    return null;
  }

  @Override
  public ConditionEvaluationResult evaluateExecutionCondition(ExtensionContext context) {
    String r = reason();
    return r == null ? ConditionEvaluationResult.enabled("cgroup v2 host") : ConditionEvaluationResult.disabled(r);
  }
}
