package dev.berth.examples.cli;

import dev.berth.image.Image;
import dev.berth.image.ImageStore;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code berth images}: the images in the store. */
@Command(name = "images", description = "List the images in the store.")
final class ImagesCommand implements Callable<Integer> {
    // --help only: -h is --hostname in run, as in docker
    @Option(names = "--help", usageHelp = true, description = "Show this help and exit.")
    boolean help;

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        try (ImageStore store = ImageStore.open(GlobalOptions.of(spec).storageRoot())) {
            System.out.printf("%-40s %-19s %s%n", "NAME", "DIGEST", "LAYERS");
            for (Image i : store.images()) {
                System.out.printf("%-40s %-19s %d%n", i.name(), i.manifestDigest().toString().substring(0, 19),
                        i.diffIds().size());
            }
            return 0;
        }
    }
}
