package dev.berth.examples.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** A command made of subcommands ({@code berth volume}, {@code berth network}): alone, it prints its usage and exits 2. */
abstract class CommandGroup implements Callable<Integer> {
    @Option(names = "--help", usageHelp = true, description = "Show this help and exit.")
    boolean help;

    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        spec.commandLine().usage(spec.commandLine().getErr());
        return BerthCli.EXIT_USAGE;
    }
}
