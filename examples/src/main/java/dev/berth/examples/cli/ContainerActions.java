package dev.berth.examples.cli;

import dev.berth.core.Container;
import dev.berth.core.ContainerInfo;
import dev.berth.core.ContainerStatus;
import dev.berth.core.SignalNames;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code berth stop | kill | rm | pause | unpause}: one action on each named container, the name
 * printed when it is done, as docker's. Every name is found and its container's state checked first.
 */
final class ContainerActions {
    private ContainerActions() {}

    /** A command that does one thing to each container it names. */
    abstract static class Each extends ContainerCommand {
        @Parameters(arity = "1..*", paramLabel = "CONTAINER", description = "Container ids or unique id prefixes.")
        List<String> names;

        /** Why {@code c} cannot be acted on, or null. */
        abstract String refusal(ContainerInfo c, String name);

        abstract void act(Containers containers, String id) throws Exception;

        @Override
        int run(Containers containers) throws Exception {
            checkOptions();
            Map<String, String> targets = targets(containers.list(), names, this::refusal);
            int code = 0;
            for (Map.Entry<String, String> t : targets.entrySet()) {
                try {
                    act(containers, t.getKey());
                    out().println(t.getValue());
                    out().flush();
                } catch (dev.berth.BerthException | IllegalStateException e) {
                    // it changed under us (ended, removed by another berth): say so, go on with the rest
                    err().println("Error: " + spec.name() + " " + t.getValue() + ": " + e.getMessage());
                    code = EXIT_NO_SUCH_CONTAINER;
                }
            }
            return code;
        }

        void checkOptions() {}

        picocli.CommandLine.ParameterException usage(String message) {
            return new picocli.CommandLine.ParameterException(spec.commandLine(), message);
        }
    }

    static boolean live(ContainerInfo c) {
        return c.status() == ContainerStatus.RUNNING || c.status() == ContainerStatus.PAUSED;
    }

    @Command(name = "stop", description = "Stop containers: the stop signal, then SIGKILL after the grace time.")
    static final class Stop extends Each {
        @Option(names = {"-t", "--time"}, paramLabel = "SECS", description = "Seconds to wait before SIGKILL (default 10).")
        int seconds = 10;

        @Override
        void checkOptions() {
            if (seconds < 0) {
                throw usage("--time: must be >= 0, got " + seconds);
            }
        }

        @Override
        String refusal(ContainerInfo c, String name) {
            return null; // stopping one that ended is nothing to do, as docker's
        }

        @Override
        void act(Containers containers, String id) throws Exception {
            try (Container c = containers.open(id)) {
                c.stop(Duration.ofSeconds(seconds));
            }
        }
    }

    @Command(name = "kill", description = "Send a signal (default SIGKILL) to containers.")
    static final class Kill extends Each {
        @Option(names = {"-s", "--signal"}, paramLabel = "SIG", description = "Signal name or number (default KILL).")
        String signal = "KILL";

        int number;

        @Override
        void checkOptions() {
            try {
                number = SignalNames.number(signal);
            } catch (IllegalArgumentException e) {
                throw usage("--signal: " + e.getMessage().replaceFirst("^signal: ", ""));
            }
        }

        @Override
        String refusal(ContainerInfo c, String name) {
            return live(c) ? null : "Error response from daemon: cannot kill container " + name + ": it is not running (status "
                    + c.status().label() + ")";
        }

        @Override
        void act(Containers containers, String id) throws Exception {
            try (Container c = containers.open(id)) {
                c.signal(number);
            }
        }
    }

    @Command(name = "rm", description = "Remove containers (-f: also running ones, killed first).")
    static final class Rm extends Each {
        @Option(names = {"-f", "--force"}, description = "Kill a running container, then remove it.")
        boolean force;

        @Override
        String refusal(ContainerInfo c, String name) {
            return force || !live(c) ? null : "Error response from daemon: cannot remove container " + name + ": it is "
                    + c.status().label() + ": stop it first, or use 'berth rm -f'";
        }

        @Override
        void act(Containers containers, String id) {
            containers.remove(id, force);
        }
    }

    @Command(name = "pause", description = "Freeze every process of containers (cgroup freezer).")
    static final class Pause extends Each {
        @Override
        String refusal(ContainerInfo c, String name) {
            if (c.status() == ContainerStatus.PAUSED) {
                return "Error response from daemon: container " + name + " is already paused";
            }
            return c.status() == ContainerStatus.RUNNING ? null
                    : "Error response from daemon: container " + name + " is not running (status " + c.status().label() + ")";
        }

        @Override
        void act(Containers containers, String id) throws Exception {
            try (Container c = containers.open(id)) {
                c.pause();
            }
        }
    }

    @Command(name = "unpause", description = "Thaw paused containers.")
    static final class Unpause extends Each {
        @Override
        String refusal(ContainerInfo c, String name) {
            return c.status() == ContainerStatus.PAUSED ? null
                    : "Error response from daemon: container " + name + " is not paused (status " + c.status().label() + ")";
        }

        @Override
        void act(Containers containers, String id) throws Exception {
            try (Container c = containers.open(id)) {
                c.resume();
            }
        }
    }
}
