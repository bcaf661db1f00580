package dev.berth.examples.cli;

import dev.berth.image.Image;
import dev.berth.image.ImageException;
import dev.berth.image.ImageStore;
import dev.berth.image.Platform;
import dev.berth.image.registry.Credentials;
import dev.berth.image.registry.PullOptions;
import dev.berth.image.registry.RegistryException;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code berth pull}: an image from a registry into the store, verified and unpacked. */
@Command(name = "pull", description = "Pull an image from a registry (e.g. busybox, registry.example/team/app:1.4, app@sha256:...).")
final class PullCommand implements Callable<Integer> {
    /** docker pull's exit status for a failed pull. */
    static final int EXIT_PULL_FAILED = 1;

    @Option(names = "--help", usageHelp = true, description = "Show this help and exit.")
    boolean help;

    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Parameters(index = "0", paramLabel = "IMAGE", description = "The image reference.")
    String image;

    @Option(names = "--platform", paramLabel = "OS/ARCH[/VARIANT]", description = "Platform of a multi-platform image (default: this host's).")
    String platform;

    @Option(names = "--authfile", paramLabel = "FILE", description = "Read credentials from this file only (auth.json or docker config.json).")
    List<Path> authFiles = new ArrayList<>();

    @Option(names = "--creds", paramLabel = "USER[:PASSWORD]",
            description = "Credentials for the image's registry; without :PASSWORD it is read from the terminal.")
    String creds;

    @Option(names = "--cert-dir", paramLabel = "DIR", description = "CA directories laid out DIR/HOST:PORT/*.crt (default /etc/containers/certs.d, /etc/docker/certs.d).")
    List<Path> certDirs = new ArrayList<>();

    @Option(names = "--insecure-registry", paramLabel = "HOST[:PORT]", description = "Allow plain HTTP for this registry when HTTPS fails.")
    List<String> insecure = new ArrayList<>();

    @Option(names = {"-q", "--quiet"}, description = "No progress bars.")
    boolean quiet;

    @Override
    public Integer call() {
        PullOptions options;
        try {
            options = options(image, platform, authFiles, creds, certDirs, insecure);
        } catch (IllegalArgumentException e) {
            spec.commandLine().getErr().println("berth: " + e.getMessage() + " (see 'berth pull --help')");
            return BerthCli.EXIT_USAGE;
        }
        ImagePull.tuneHttpClient();
        try (ImageStore store = ImageStore.open(GlobalOptions.of(spec).storageRoot())) {
            Image img = quiet ? store.pull(image, options, null) : ImagePull.pull(store, image, options, System.err);
            System.out.println(img.name() + " " + img.manifestDigest() + " (" + img.diffIds().size() + " layers)");
            return 0;
        } catch (IllegalArgumentException e) {
            spec.commandLine().getErr().println("berth: " + e.getMessage() + " (see 'berth pull --help')");
            return BerthCli.EXIT_USAGE;
        } catch (IOException | ImageException e) {
            spec.commandLine().getErr().println("berth: " + e.getMessage() + hint(e));
            return EXIT_PULL_FAILED;
        }
    }

    static String hint(Exception e) {
        if (e instanceof RegistryException r) {
            String code = r.code().orElse("");
            if (code.equals("UNAUTHORIZED") || code.equals("DENIED")) {
                return " (hint: --creds USER:PASSWORD or --authfile FILE)";
            }
            if (r.status() == 0 && e.getMessage().contains("PKIX")) {
                return " (hint: put the registry's CA in /etc/containers/certs.d/HOST:PORT/ca.crt or --cert-dir)";
            }
        }
        return "";
    }

    /**
     * {@code --creds USER[:PASSWORD]} as podman reads it: the password after the first colon, or,
     * without one, read from {@code console} without echo; refused when there is no terminal. Neither
     * appears in an error message.
     */
    static Credentials credentials(String creds, String registry, java.io.Console console) {
        int colon = creds.indexOf(':');
        String user = colon < 0 ? creds : creds.substring(0, colon);
        if (user.isEmpty()) {
            throw new IllegalArgumentException("--creds: expected USER[:PASSWORD], the user is empty");
        }
        if (colon >= 0) {
            return new Credentials(user, creds.substring(colon + 1));
        }
        if (console == null) {
            throw new IllegalArgumentException("--creds: no password after the user and no terminal to read it from;"
                    + " give USER:PASSWORD or use --authfile");
        }
        char[] pw = console.readPassword("Password for %s at %s: ", user, registry);
        if (pw == null) {
            throw new IllegalArgumentException("--creds: no password was entered (end of input)");
        }
        try {
            return new Credentials(user, new String(pw));
        } finally {
            java.util.Arrays.fill(pw, '\0');
        }
    }

    /** The pull options the launcher's flags describe. */
    static PullOptions options(String image, String platform, List<Path> authFiles, String creds, List<Path> certDirs,
            List<String> insecure) {
        PullOptions.Builder b = PullOptions.builder();
        if (platform != null) {
            String[] p = platform.split("/", -1);
            if (p.length < 2 || p.length > 3 || p[0].isEmpty() || p[1].isEmpty()) {
                throw new IllegalArgumentException("--platform: expected OS/ARCH[/VARIANT], got \"" + platform + "\"");
            }
            b.platform(new Platform(p[0], p[1], p.length == 3 ? p[2] : ""));
        }
        if (!authFiles.isEmpty()) {
            b.authFiles(authFiles);
        }
        if (creds != null) {
            String registry = dev.berth.image.registry.RegistryReference.parse(image).registry();
            b.credentials(registry, credentials(creds, registry, System.console()));
        }
        if (!certDirs.isEmpty()) {
            b.certDirectories(certDirs);
        }
        insecure.forEach(b::insecureRegistry);
        return b.build();
    }
}
