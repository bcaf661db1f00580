package dev.berth.network.usermode;

import dev.berth.network.NetworkException;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * The user-mode network tools a container's network namespace can be connected through without
 * privileges: a process on the host that owns the host-side sockets and relays the container's
 * traffic (podman's names for them).
 */
public enum UserModeTool {
    /** Debian's {@code passt} package: {@code pasta}, podman 5's default. */
    PASTA("pasta", "passt"),
    /** {@code slirp4netns}, podman 4's default. */
    SLIRP4NETNS("slirp4netns", "slirp4netns");

    private final String command;
    private final String distributionPackage;

    UserModeTool(String command, String distributionPackage) {
        this.command = command;
        this.distributionPackage = distributionPackage;
    }

    /** The executable's name, which is also the network mode's spelling. */
    public String command() {
        return command;
    }

    /** The Debian/Fedora package that installs it. */
    public String distributionPackage() {
        return distributionPackage;
    }

    /** The executable on {@code PATH} (or in /usr/bin, /bin), if installed. */
    public Optional<Path> find() {
        return find(System.getenv("PATH"));
    }

    Optional<Path> find(String path) {
        String dirs = (path == null || path.isEmpty() ? "" : path + File.pathSeparator) + "/usr/bin:/bin";
        for (String d : dirs.split(File.pathSeparator)) {
            if (d.isEmpty()) {
                continue;
            }
            Path p = Path.of(d, command);
            if (Files.isRegularFile(p) && Files.isExecutable(p)) {
                return Optional.of(p);
            }
        }
        return Optional.empty();
    }

    /** The executable, or a one-line error naming the package that installs it. */
    public Path require() {
        return find().orElseThrow(() -> new NetworkException("network " + command + ": " + command
                + " is not installed (install the " + distributionPackage + " package)"));
    }

    /** By its spelling ({@code pasta}, {@code slirp4netns}). */
    public static Optional<UserModeTool> of(String name) {
        for (UserModeTool t : values()) {
            if (t.command.equals(name)) {
                return Optional.of(t);
            }
        }
        return Optional.empty();
    }

    /**
     * The default user-mode network of a rootless runtime, as podman 5 chooses it: pasta when
     * installed, else slirp4netns.
     *
     * @throws NetworkException naming both packages when neither is installed
     */
    public static UserModeTool preferred() {
        for (UserModeTool t : values()) {
            if (t.find().isPresent()) {
                return t;
            }
        }
        throw new NetworkException("rootless: no user-mode network tool found for the default network (install the"
                + " passt package for pasta, or slirp4netns; or choose network none or host)");
    }
}
