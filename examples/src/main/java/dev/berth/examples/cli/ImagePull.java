package dev.berth.examples.cli;

import dev.berth.image.Image;
import dev.berth.image.ImageStore;
import dev.berth.image.ImportProgress;
import dev.berth.image.registry.PullOptions;
import dev.berth.image.registry.RegistryReference;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Optional;

/** The launcher's pull: the policy of {@code run --pull}, and a progress bar when stderr is a terminal. */
final class ImagePull {
    private ImagePull() {}

    /** When {@code run} pulls: as docker's {@code --pull}. */
    enum Policy { MISSING, ALWAYS, NEVER }

    static Policy policy(String value) {
        return switch (value) {
            case "missing" -> Policy.MISSING;
            case "always" -> Policy.ALWAYS;
            case "never" -> Policy.NEVER;
            default -> throw new IllegalArgumentException("--pull: expected missing, always or never, got \"" + value + "\"");
        };
    }

    /** The store name of {@code image} after applying {@code policy}: the local name, or the pulled one. */
    static String resolve(String image, Policy policy, Path storageRoot, PullOptions options, PrintStream err)
            throws IOException {
        try (ImageStore store = ImageStore.open(storageRoot)) {
            if (policy != Policy.ALWAYS) {
                Optional<String> local = local(store, image, options);
                if (local.isPresent()) {
                    return local.get();
                }
                if (policy == Policy.NEVER) {
                    throw new dev.berth.image.ImageException("no such image " + image + " in " + storageRoot
                            + " (--pull never; pull it with 'berth pull " + image + "')");
                }
            }
            return pull(store, image, options, err).name();
        }
    }

    /** The image as named (imported images), or under its normalised registry name. */
    static Optional<String> local(ImageStore store, String image, PullOptions options) throws IOException {
        try {
            if (store.find(image).isPresent()) {
                return Optional.of(image);
            }
        } catch (IllegalArgumentException notAStoreName) {
            // e.g. a digest reference: only its normalised name can be stored
        }
        String normal = RegistryReference.parse(image, options.defaultRegistry()).storeName().toString();
        return store.find(normal).isPresent() ? Optional.of(normal) : Optional.empty();
    }

    static Image pull(ImageStore store, String image, PullOptions options, PrintStream err) throws IOException {
        PullProgress bar = System.console() != null ? new PullProgress(err) : null;
        try {
            return store.pull(image, options, bar != null ? bar : ImportProgress.NONE);
        } finally {
            if (bar != null) {
                bar.finish();
            }
        }
    }
}
