package dev.berth.core.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.extension.ConditionEvaluationResult;
import org.junit.jupiter.api.extension.ExecutionCondition;
import org.junit.jupiter.api.extension.ExtensionContext;

/** Enabled only as uid 0 on Linux: real namespaces, mounts and cgroups need it. */
public final class RequiresRootCondition implements ExecutionCondition {
    @Override
    public ConditionEvaluationResult evaluateExecutionCondition(ExtensionContext context) {
        if (!System.getProperty("os.name").equals("Linux")) {
            return ConditionEvaluationResult.disabled("requires root on Linux: running on " + System.getProperty("os.name"));
        }
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("Uid:")) {
                    String euid = line.split("\\s+")[2];
                    return euid.equals("0")
                            ? ConditionEvaluationResult.enabled("running as root")
                            : ConditionEvaluationResult.disabled("requires root: effective uid is " + euid);
                }
            }
        } catch (IOException e) {
            return ConditionEvaluationResult.disabled("requires root: cannot read /proc/self/status: " + e.getMessage());
        }
        return ConditionEvaluationResult.disabled("requires root: no Uid line in /proc/self/status");
    }
}
