package dev.berth.examples.cli;

import dev.berth.image.Image;
import dev.berth.image.ImageStore;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code berth import}: an OCI layout directory, an oci-archive or a docker-archive into the store. */
@Command(name = "import", description = "Import an image: OCI layout directory, oci-archive or docker-archive tar.")
final class ImportCommand implements Callable<Integer> {
    // --help only: -h is --hostname in run, as in docker
    @Option(names = "--help", usageHelp = true, description = "Show this help and exit.")
    boolean help;

    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Parameters(index = "0", paramLabel = "PATH", description = "The image to import.")
    Path source;

    @Option(names = "--name", paramLabel = "NAME:TAG", description = "Name it (default: the name the image carries).")
    String name;


    @Override
    public Integer call() throws Exception {
        if (!Files.exists(source)) {
            spec.commandLine().getErr().println("berth: import " + source + ": no such file or directory");
            return BerthCli.EXIT_RUNTIME;
        }
        PrintStream err = System.err;
        ProgressBar bar = System.console() != null ? new ProgressBar(err) : null;
        try (ImageStore store = ImageStore.open(GlobalOptions.of(spec).storageRoot())) {
            // unpacks too, so the first run does not pay for it; closing the store waits for the disk
            Image image = store.importImage(source, Optional.ofNullable(name),
                    bar != null ? bar : dev.berth.image.ImportProgress.NONE);
            if (bar != null) {
                bar.finish();
            }
            System.out.println(image.name() + " " + image.manifestDigest() + " (" + image.diffIds().size() + " layers)");
            return 0;
        } catch (java.io.IOException | RuntimeException e) {
            if (bar != null) {
                bar.finish();
            }
            spec.commandLine().getErr().println("berth: import " + source + ": " + e.getMessage());
            return BerthCli.EXIT_RUNTIME;
        }
    }
}
