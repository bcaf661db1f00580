package dev.berth.examples.cli;

import dev.berth.core.Container;
import dev.berth.core.ExitStatus;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** {@code berth wait}: blocks until each container has ended and prints its exit code, a line each, as docker's. */
@Command(name = "wait", description = "Wait for containers to end; print their exit codes.")
final class WaitCommand extends ContainerCommand {
    @Parameters(arity = "1..*", paramLabel = "CONTAINER", description = "Container ids or unique id prefixes.")
    List<String> names;

    @Override
    int run(Containers containers) throws Exception {
        Map<String, String> targets = targets(containers.list(), names, (c, n) -> null);
        for (String id : targets.keySet()) {
            try (Container c = containers.open(id)) {
                ExitStatus s = c.waitFor();
                out().println(s.shellCode());
                out().flush();
            }
        }
        return 0;
    }
}
