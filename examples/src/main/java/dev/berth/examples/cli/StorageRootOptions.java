package dev.berth.examples.cli;

import java.nio.file.Path;
import picocli.CommandLine.Option;

/** The options of every subcommand over the storage root's objects (volumes, networks). */
class StorageRootOptions {
    @Option(names = "--help", usageHelp = true, description = "Show this help and exit.")
    boolean help;

    @Option(names = "--root", paramLabel = "DIR", description = "Storage root (default /var/lib/berth).")
    Path storageRoot = Path.of("/var/lib/berth");
}
