package dev.berth.examples.cli;

import java.nio.file.Path;
import picocli.CommandLine.Option;

/** The options of every container command: where containers' state and images are, and --help. */
class StateRootOptions {
    @Option(names = "--help", usageHelp = true, description = "Show this help and exit.")
    boolean help;

    @Option(names = "--state-root", paramLabel = "DIR", description = "State directory (default /run/berth).")
    Path stateRoot = Path.of("/run/berth");

    @Option(names = "--root", paramLabel = "DIR", description = "Storage root (default /var/lib/berth).")
    Path storageRoot = Path.of("/var/lib/berth");
}
