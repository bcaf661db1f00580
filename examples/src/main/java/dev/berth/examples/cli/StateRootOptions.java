package dev.berth.examples.cli;

import java.nio.file.Path;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** What every container command has: --help, and the roots of the global options ({@link GlobalOptions}). */
class StateRootOptions {
    @Option(names = "--help", usageHelp = true, description = "Show this help and exit.")
    boolean help;

    @Spec(Spec.Target.MIXEE)
    CommandSpec mixee;

    Path stateRoot() {
        return GlobalOptions.of(mixee).stateRoot;
    }

    Path storageRoot() {
        return GlobalOptions.of(mixee).storageRoot;
    }
}
