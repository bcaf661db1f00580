package dev.berth.examples.cli;

import dev.berth.image.ImageStore;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code berth rmi}: removes images; layers still used by another image or a container stay. */
@Command(name = "rmi", description = "Remove images (layers other images or containers use stay).")
final class RmiCommand implements Callable<Integer> {
    // --help only: -h is --hostname in run, as in docker
    @Option(names = "--help", usageHelp = true, description = "Show this help and exit.")
    boolean help;

    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Parameters(arity = "1..*", paramLabel = "NAME:TAG")
    List<String> names;


    @Override
    public Integer call() throws Exception {
        int code = 0;
        try (ImageStore store = ImageStore.open(GlobalOptions.of(spec).storageRoot())) {
            for (String n : names) {
                try {
                    if (store.remove(n)) {
                        System.out.println("removed " + n);
                    } else {
                        spec.commandLine().getErr().println("berth: rmi " + n + ": no such image");
                        code = 1;
                    }
                } catch (IllegalArgumentException e) {
                    spec.commandLine().getErr().println("berth: rmi " + n + ": " + e.getMessage());
                    code = BerthCli.EXIT_USAGE;
                }
            }
        }
        return code;
    }
}
