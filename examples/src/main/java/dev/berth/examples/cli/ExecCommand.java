package dev.berth.examples.cli;

import dev.berth.core.ContainerException;
import dev.berth.core.ContainerRuntime;
import dev.berth.core.ContainerStartException;
import dev.berth.core.ExecProcess;
import dev.berth.core.ExecSpec;
import dev.berth.core.ExitStatus;
import dev.berth.core.Stdio;
import dev.berth.core.TerminalSize;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code berth exec}: runs a command in a running container, found by its id under the state root
 * (one a concurrent {@code berth run --name} started too), with stdio attached; exits with the
 * command's code. As docker's: 126 when the command could not be started in the container
 * (podman says 127 for a command not found; docker 126 for every start failure), 1 when the
 * container does not exist or does not run, 125 when Berth itself failed.
 */
@Command(name = "exec", description = {"Run a command in a running container.",
    "  berth exec [OPTIONS] CONTAINER CMD [ARG...]",
    "Options end at CONTAINER: everything after it is the command's."}, sortOptions = false)
final class ExecCommand implements Callable<Integer> {
    static final int EXIT_NO_CONTAINER = 1;

    @Option(names = "--help", usageHelp = true, description = "Show this help and exit.")
    boolean help;

    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Option(names = {"-i", "--interactive"},
            description = "Attach stdin (without -t: as it is; with -t: keystrokes go to the terminal, raw).")
    boolean interactive;

    @Option(names = {"-t", "--tty"}, description = "Give the command a terminal of its own, attached to this one.")
    boolean tty;

    @Option(names = {"-u", "--user"}, paramLabel = "U[:G]",
            description = "User and group, by name or number (default: the container's).")
    String user;

    @Option(names = {"-w", "--workdir"}, paramLabel = "D",
            description = "Working directory inside the container (default: the container's).")
    String workdir;

    @Option(names = {"-e", "--env"}, paramLabel = "K=V",
            description = "Set an environment variable; K alone takes it from this environment (unset if absent).")
    List<String> env = new ArrayList<>();

    @Option(names = "--env-file", paramLabel = "FILE",
            description = "Read variables from a file: K=V or K a line, # comments (docker's format).")
    List<Path> envFiles = new ArrayList<>();



    @Parameters(paramLabel = "CONTAINER CMD", arity = "0..*", description = "CONTAINER CMD [ARG...]")
    List<String> args = new ArrayList<>();

    /** Where {@code -e K} and an env file's {@code K} lines take their values. */
    Map<String, String> callerEnv = System.getenv();

    @Override
    public Integer call() throws Exception {
        ExecSpec execSpec = toSpec();
        TerminalAttachment terminal = tty ? new TerminalAttachment(interactive) : null;
        SignalForwarder signals = tty ? new SignalForwarder("INT", "TERM", "HUP", "USR1", "USR2")
                : new SignalForwarder("INT", "TERM", "HUP", "USR1", "USR2", "WINCH");
        // the container's cgroups are its own runtime's: this one only enters them
        try (ContainerRuntime runtime = ContainerRuntime.builder().stateRoot(GlobalOptions.of(spec).stateRoot()).storageRoot(GlobalOptions.of(spec).storageRoot())
                .cgroups(false).build()) {
            ExecProcess p;
            try {
                p = runtime.exec(args.get(0), execSpec);
            } catch (ContainerStartException e) {
                spec.commandLine().getErr().println("berth: " + e.getMessage());
                return BerthCli.EXIT_NOT_EXECUTABLE;
            } catch (ContainerException e) {
                spec.commandLine().getErr().println("berth: " + e.getMessage()
                        + " (see 'berth exec --help')");
                return EXIT_NO_CONTAINER;
            }
            try (p) {
                signals.attach(p);
                ExitStatus status = terminal != null ? terminal.run(p) : p.onExit().join();
                return status.shellCode();
            }
        }
    }

    ExecSpec toSpec() {
        if (args.size() < 2) {
            throw usage(args.isEmpty() ? "Missing required parameters: 'CONTAINER', 'CMD'"
                    : "Missing required parameter: 'CMD'");
        }
        ExecSpec.Builder b = ExecSpec.builder().command(args.subList(1, args.size()));
        if (tty) {
            TerminalSize size = TerminalAttachment.hostSize();
            b.tty(true).consoleSize(size);
        } else {
            b.stdin(interactive ? Stdio.inherit() : Stdio.discard()).stdout(Stdio.inherit()).stderr(Stdio.inherit());
        }
        try {
            b.env(EnvFile.resolve(envFiles, env, callerEnv));
        } catch (IllegalArgumentException e) {
            throw usage(e.getMessage());
        }
        if (user != null) {
            b.user(user);
        }
        if (workdir != null) {
            b.workingDir(workdir);
        }
        try {
            return b.build();
        } catch (IllegalArgumentException e) {
            throw usage(e.getMessage());
        }
    }

    private picocli.CommandLine.ParameterException usage(String message) {
        return new picocli.CommandLine.ParameterException(spec.commandLine(), message);
    }
}
