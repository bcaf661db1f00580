package dev.berth.examples.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * {@code berth}: a thin command line over the Berth library. Exit codes follow Docker
 * and podman: the container's own code, 128+n when a signal n killed it, 125 when
 * Berth itself failed, 126 when the command cannot be executed, 127 when it is not found,
 * and 2 for bad arguments.
 */
@Command(name = "berth", mixinStandardHelpOptions = true, version = "berth 0.1.0",
        description = "Run processes in containers from a Java library.",
        subcommands = {RunCommand.class, ExecCommand.class, CpCommand.class, ImportCommand.class, PullCommand.class,
                ImagesCommand.class, RmiCommand.class, VolumeCommand.class, NetworkCommand.class,
                PortCommand.class, PsCommand.class, ContainerActions.Stop.class, ContainerActions.Kill.class,
                ContainerActions.Rm.class, ContainerActions.Pause.class, ContainerActions.Unpause.class,
                StatsCommand.class, InspectCommand.class, WaitCommand.class, LogsCommand.class})
public final class BerthCli {

    public static final int EXIT_USAGE = 2;
    public static final int EXIT_RUNTIME = 125;
    public static final int EXIT_NOT_EXECUTABLE = 126;
    public static final int EXIT_NOT_FOUND = 127;

    public static void main(String[] args) {
        System.exit(execute(args));
    }

    public static int execute(String... args) {
        return execute(CommandLine.defaultFactory(), args);
    }

    /** With the commands made by {@code factory} (tests hand the container commands a fake state root). */
    static int execute(CommandLine.IFactory factory, String... args) {
        CommandLine cl = new CommandLine(new BerthCli(), factory);
        // As docker's: options end at the first positional (IMAGE, or CMD with --rootfs), so
        // "berth run IMAGE sh -c '...'" passes -c (and any later --) to the command.
        cl.getSubcommands().get("run").setStopAtPositional(true);
        cl.getSubcommands().get("exec").setStopAtPositional(true); // CONTAINER, then the command's own arguments
        cl.setParameterExceptionHandler((ex, a) -> {
            CommandLine c = ex.getCommandLine();
            c.getErr().println("berth: " + ex.getMessage() + " (see '" + c.getCommandSpec().qualifiedName() + " --help')");
            return EXIT_USAGE;
        });
        cl.setExecutionExceptionHandler((ex, c, parsed) -> {
            c.getErr().println("berth: " + ex.getMessage());
            return EXIT_RUNTIME;
        });
        return cl.execute(args);
    }
}
