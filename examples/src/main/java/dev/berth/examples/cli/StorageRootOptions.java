package dev.berth.examples.cli;

import java.nio.file.Path;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** What every subcommand over the storage root's objects (volumes, networks) has: --help, and the storage root. */
class StorageRootOptions {
    @Option(names = "--help", usageHelp = true, description = "Show this help and exit.")
    boolean help;

    @Spec(Spec.Target.MIXEE)
    CommandSpec mixee;

    Path storageRoot() {
        return GlobalOptions.of(mixee).storageRoot;
    }
}
