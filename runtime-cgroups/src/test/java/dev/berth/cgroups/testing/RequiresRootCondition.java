package dev.berth.cgroups.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Paths;
import org.junit.jupiter.api.extension.ConditionEvaluationResult;
import org.junit.jupiter.api.extension.ExecutionCondition;
import org.junit.jupiter.api.extension.ExtensionContext;

/** {@link ExecutionCondition} of {@link RequiresRoot}. */
public final class RequiresRootCondition implements ExecutionCondition {

  /** The effective uid from /proc/self/status, or -1 when unknown. */
  public static long effectiveUid() {
    try {
      for (String line : Files.readAllLines(Paths.get("/proc/self/status"))) {
        if (line.startsWith("Uid:")) return Long.parseLong(line.substring(4).trim().split("\\s+")[1]);
      }
    } catch (IOException | RuntimeException e) {
      return -1;
    }
    return -1;
  }

  /** null when running as root, else the skip reason. */
  static String notRootReason() {
    long uid = effectiveUid();
    return uid == 0 ? null : "requires root: effective uid is " + (uid < 0 ? "unknown (no /proc/self/status)" : uid);
  }

  @Override
  public ConditionEvaluationResult evaluateExecutionCondition(ExtensionContext context) {
    String reason = notRootReason();
    return reason == null ? ConditionEvaluationResult.enabled("running as root") : ConditionEvaluationResult.disabled(reason);
  }
}
