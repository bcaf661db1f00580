package dev.berth.examples.cli;

import dev.berth.image.Image;
import dev.berth.image.ImageStore;
import dev.berth.image.ImportProgress;
import dev.berth.image.registry.PullOptions;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Optional;

/** The launcher's pull: the policy of {@code run --pull}, and a progress bar when stderr is a terminal. */
final class ImagePull {
    private ImagePull() {}

    /** When {@code run} pulls: as docker's {@code --pull}. */
    enum Policy { MISSING, ALWAYS, NEVER }

    /**
     * The JDK HTTP client's transfer sizes for a process that pulls: 256 KiB socket reads and HTTP/2
     * frames instead of 16 KiB. Each read or frame is a buffer handed between the client's threads
     * and the reader; at 16 KiB a 383 MB pull made about 25,000 hand-offs and took about 1.2 s (7%)
     * more CPU than at 256 KiB (medians of 3 alternating runs; docs/benchmarks.md).
     * These are JVM-wide, read once when the client's classes load: a launcher may set them, a
     * library should not, so the library leaves them to its embedder. Set before any client is made;
     * a value given on the command line wins.
     */
    static void tuneHttpClient() {
        System.getProperties().putIfAbsent("jdk.httpclient.bufsize", String.valueOf(256 * 1024));
        System.getProperties().putIfAbsent("jdk.httpclient.maxframesize", String.valueOf(256 * 1024));
    }

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
        tuneHttpClient();
        try (ImageStore store = ImageStore.open(storageRoot)) {
            if (policy != Policy.ALWAYS) {
                Optional<String> local = local(store, image, options);
                if (local.isPresent() && options.platform().isPresent()
                        && !hasPlatform(store, local.get(), options.platform().get())) {
                    local = Optional.empty(); // stored for another platform: pulled for this one
                }
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

    /** Whether the stored image {@code name} is for {@code wanted} (os, architecture, and the variant when given). */
    static boolean hasPlatform(ImageStore store, String name, dev.berth.image.Platform wanted) throws IOException {
        Optional<Image> img = store.find(name);
        if (img.isEmpty()) {
            return false;
        }
        dev.berth.image.Platform p = img.get().config().platform();
        return wanted.runs(p) && (wanted.variant().isEmpty() || wanted.variant().equals(p.variant()));
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
        String normal = ImageStore.resolveReference(image, options).storeName().toString(); // registries.conf's short names too
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
