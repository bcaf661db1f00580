package dev.berth.examples.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** A command made of subcommands ({@code berth volume}, {@code berth network}): alone, it says so in one line and exits 125, as podman's. */
abstract class CommandGroup implements Callable<Integer> {
    @Option(names = "--help", usageHelp = true, description = "Show this help and exit.")
    boolean help;

    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        spec.commandLine().getErr().println("berth: '" + spec.qualifiedName() + "' needs a command: "
                + String.join(", ", spec.subcommands().keySet()) + " (see '" + spec.qualifiedName() + " --help')");
        return BerthCli.EXIT_USAGE;
    }
}
