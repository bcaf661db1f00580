package dev.berth.examples.cli;

import dev.berth.BerthException;
import dev.berth.core.ContainerInfo;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.function.BiFunction;
import java.nio.file.Path;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Spec;

/**
 * A command over the containers of a state root ({@code ps}, {@code stop}, {@code rm}, ...). Exit
 * codes as docker's: 1 for a name that finds no container (or more than one) and for a container
 * in the wrong state, 125 when Berth itself failed, 2 for bad arguments; every name is looked up and
 * checked before any is acted on, so a failed command changes nothing.
 */
abstract class ContainerCommand implements Callable<Integer> {
    static final int EXIT_NO_SUCH_CONTAINER = 1;

    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Mixin
    GlobalOptions.Roots roots;

    /** Where the containers come from; tests put a fake here. */
    BiFunction<Path, Path, Containers> opener = RuntimeContainers::open;

    /** A refusal that is the user's to fix (a name, a container's state): one line, exit 1. */
    static final class Refused extends Exception {
        private static final long serialVersionUID = 1L;

        Refused(String message) {
            super(message);
        }
    }

    abstract int run(Containers containers) throws Exception;

    @Override
    public Integer call() throws Exception {
        try (Containers c = opener.apply(roots.stateRoot(), roots.storageRoot())) {
            return run(c);
        } catch (ContainerNames.LookupException | Refused e) {
            err().println(e.getMessage());
            return EXIT_NO_SUCH_CONTAINER;
        } catch (BerthException e) {
            err().println("berth: " + e.getMessage() + " (see 'berth " + spec.name() + " --help')");
            return BerthCli.EXIT_RUNTIME;
        } finally {
            out().flush();
            err().flush();
        }
    }

    /** Why a command may not act on a container in its present state, or null when it may. */
    @FunctionalInterface
    interface Check {
        String refusal(ContainerInfo container, String name);
    }

    /**
     * The containers {@code names} stand for (id → the name as given), each found and allowed by
     * {@code check}; otherwise nothing is returned and nothing is done.
     */
    static Map<String, String> targets(List<ContainerInfo> all, List<String> names, Check check)
            throws ContainerNames.LookupException, Refused {
        Map<String, String> ids = ContainerNames.resolveAll(all.stream().map(ContainerInfo::id).toList(), names);
        List<String> refusals = new ArrayList<>();
        ids.forEach((id, name) -> {
            String why = check.refusal(info(all, id), name);
            if (why != null) {
                refusals.add(why);
            }
        });
        if (!refusals.isEmpty()) {
            throw new Refused(String.join("\n", refusals));
        }
        return ids;
    }

    static ContainerInfo info(List<ContainerInfo> all, String id) {
        return all.stream().filter(i -> i.id().equals(id)).findFirst().orElseThrow();
    }

    PrintWriter out() {
        return spec.commandLine().getOut();
    }

    PrintWriter err() {
        return spec.commandLine().getErr();
    }
}
