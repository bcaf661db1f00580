package dev.berth.examples.cli;

import dev.berth.core.DefaultRoots;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ScopeType;
import picocli.CommandLine.Spec;

/**
 * The options every {@code berth} command takes, in one place: declared once on {@code berth} itself
 * and inherited by every subcommand, so that {@code berth --root /x images} (docker's and podman's
 * place) and {@code berth images --root /x} both work, and the value lands here either way.
 */
final class GlobalOptions {
    /** docker's levels; slf4j-simple has no fatal, so fatal shows errors only. */
    static final List<String> LEVELS = List.of("debug", "info", "warn", "error", "fatal");
    /** slf4j-simple's setting, read once, when the first logger is made (after parsing). */
    static final String SIMPLE_LOGGER_LEVEL = "org.slf4j.simpleLogger.defaultLogLevel";

    @Spec(Spec.Target.MIXEE)
    CommandSpec mixee;

    // Absent: DefaultRoots', resolved when a command needs them (never for --help: the rootless state
    // root's fallback directory is made on first use)
    @Option(names = "--state-root", paramLabel = "DIR", scope = ScopeType.INHERIT,
            description = "State directory of containers (default /run/berth; run by an ordinary user:"
                    + " $XDG_RUNTIME_DIR/berth, else /tmp/berth-run-UID).")
    Path stateRoot;

    @Option(names = "--root", paramLabel = "DIR", scope = ScopeType.INHERIT,
            description = "Storage root of images, volumes and networks (default /var/lib/berth;"
                    + " run by an ordinary user: $XDG_DATA_HOME/berth, else ~/.local/share/berth).")
    Path storageRoot;

    /** The state root given, or the default for this user. */
    Path stateRoot() {
        return stateRoot != null ? stateRoot : DefaultRoots.current().stateRoot();
    }

    /** The storage root given, or the default for this user. */
    Path storageRoot() {
        return storageRoot != null ? storageRoot : DefaultRoots.current().storageRoot();
    }

    /** As given; absent: the launcher script's (warn, or $BERTH_LOG_LEVEL), or slf4j-simple's info. */
    String logLevel;

    @Option(names = "--log-level", paramLabel = "LEVEL", scope = ScopeType.INHERIT,
            description = "Berth's own messages on stderr: debug, info, warn (the launcher's default), error or fatal.")
    void logLevel(String level) {
        String l = level.toLowerCase(Locale.ROOT);
        if (!LEVELS.contains(l)) {
            throw new CommandLine.ParameterException(mixee.commandLine(), "--log-level: \"" + level
                    + "\" is not a level (debug, info, warn, error, fatal)");
        }
        logLevel = l;
        System.setProperty(SIMPLE_LOGGER_LEVEL, l.equals("fatal") ? "error" : l);
    }

    /** The options of the {@code berth} command {@code spec} belongs to (the defaults for a command run alone, in tests). */
    static GlobalOptions of(CommandSpec spec) {
        return spec.root().userObject() instanceof BerthCli b ? b.global : new GlobalOptions();
    }

    /**
     * What every subcommand over the roots' objects has (the container commands, {@code volume} and
     * {@code network}): its {@code --help}, and the roots of these global options, given before or
     * after the subcommand.
     */
    static class Roots {
        @Option(names = "--help", usageHelp = true, description = "Show this help and exit.")
        boolean help;

        @Spec(Spec.Target.MIXEE)
        CommandSpec mixee;

        Path stateRoot() {
            return of(mixee).stateRoot();
        }

        Path storageRoot() {
            return of(mixee).storageRoot();
        }
    }
}
