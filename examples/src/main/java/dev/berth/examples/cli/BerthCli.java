package dev.berth.examples.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Spec;

/**
 * {@code berth}: a thin command line over the Berth library. Exit codes follow Docker and podman:
 * {@code run} exits with the container's own code (128+n when a signal n killed it), 126 when its
 * command cannot be executed, 127 when it is not found; 125 when Berth itself failed or the command
 * line is wrong (an unknown flag, a bad value, a missing argument); the container commands exit 1
 * where docker does (no such container, one in the wrong state).
 */
@Command(name = "berth", mixinStandardHelpOptions = true, version = "berth 0.1.0",
        description = "Run processes in containers from a Java library.",
        footer = {"", "Global options (--root, --state-root, --log-level) go before or after the command:"
                + " 'berth --root /x images' or 'berth images --root /x'."},
        subcommands = {RunCommand.class, ExecCommand.class, CpCommand.class, ImportCommand.class, PullCommand.class,
                ImagesCommand.class, RmiCommand.class, VolumeCommand.class, NetworkCommand.class,
                PortCommand.class, PsCommand.class, ContainerActions.Stop.class, ContainerActions.Kill.class,
                ContainerActions.Rm.class, ContainerActions.Pause.class, ContainerActions.Unpause.class,
                StatsCommand.class, InspectCommand.class, WaitCommand.class, LogsCommand.class, InfoCommand.class})
public final class BerthCli implements Callable<Integer> {

    /** A wrong command line: docker's and podman's 125 (picocli's own default is 2). */
    public static final int EXIT_USAGE = 125;
    public static final int EXIT_RUNTIME = 125;
    public static final int EXIT_NOT_EXECUTABLE = 126;
    public static final int EXIT_NOT_FOUND = 127;

    @Mixin
    GlobalOptions global;

    @Spec
    CommandLine.Model.CommandSpec spec;

    public static void main(String[] args) {
        System.exit(execute(args));
    }

    public static int execute(String... args) {
        return execute(CommandLine.defaultFactory(), args);
    }

    /** {@code berth} alone: one line, as podman's. */
    @Override
    public Integer call() {
        spec.commandLine().getErr().println("berth: missing a command (see 'berth --help')");
        return EXIT_USAGE;
    }

    /** With the commands made by {@code factory} (tests hand the container commands a fake state root). */
    static int execute(CommandLine.IFactory factory, String... args) {
        CommandLine cl = new CommandLine(new BerthCli(), factory);
        // As docker's: options end at the first positional (IMAGE, or CMD with --rootfs), so
        // "berth run IMAGE sh -c '...'" passes -c (and any later --) to the command.
        cl.getSubcommands().get("run").setStopAtPositional(true);
        cl.getSubcommands().get("exec").setStopAtPositional(true); // CONTAINER, then the command's own arguments
        cl.setParameterExceptionHandler((ex, a) -> {
            ex.getCommandLine().getErr().println(usageError(ex));
            return EXIT_USAGE;
        });
        cl.setExecutionExceptionHandler((ex, c, parsed) -> {
            c.getErr().println("berth: " + oneLine(String.valueOf(ex.getMessage())));
            return EXIT_RUNTIME;
        });
        return cl.execute(args);
    }

    /** One line: the problem, then where the help is ({@code berth: Unknown option: '--x' (see 'berth run --help')}). */
    static String usageError(CommandLine.ParameterException ex) {
        return "berth: " + oneLine(String.valueOf(ex.getMessage())) + " (see '"
                + ex.getCommandLine().getCommandSpec().qualifiedName() + " --help')";
    }

    private static String oneLine(String s) {
        return s.strip().replaceAll("\\s*\\R\\s*", "; ");
    }
}
