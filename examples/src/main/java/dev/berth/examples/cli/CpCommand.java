package dev.berth.examples.cli;

import dev.berth.core.ContainerException;
import dev.berth.core.ContainerFiles;
import dev.berth.core.ContainerRuntime;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code berth cp}: docker's {@code cp} between the host and a container, running or ended (found by
 * its id under the state root): {@code CONTAINER:SRC DEST}, {@code SRC CONTAINER:DEST}, and {@code -}
 * for a tar stream on stdin or stdout.
 */
@Command(name = "cp", description = {"Copy files between a container (running or ended) and the host.",
    "  berth cp [OPTIONS] CONTAINER:SRC_PATH DEST_PATH|-",
    "  berth cp [OPTIONS] SRC_PATH|- CONTAINER:DEST_PATH",
    "A directory path ending in /. copies its contents; - is a tar stream (stdout, or stdin)."})
final class CpCommand implements Callable<Integer> {
    @Option(names = "--help", usageHelp = true, description = "Show this help and exit.")
    boolean help;

    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Parameters(index = "0", paramLabel = "SRC")
    String source;

    @Parameters(index = "1", paramLabel = "DEST")
    String destination;



    /** {@code CONTAINER:PATH}, or a host path (a local path with a colon needs a / or ./ in front, as in docker). */
    record Location(String container, String path) {
        static Location parse(String arg) {
            int colon = arg.indexOf(':');
            if (colon <= 0 || arg.startsWith("/") || arg.startsWith(".")) {
                return new Location(null, arg);
            }
            return new Location(arg.substring(0, colon), arg.substring(colon + 1));
        }
    }

    @Override
    public Integer call() throws Exception {
        Location src = Location.parse(source);
        Location dst = Location.parse(destination);
        if ((src.container() == null) == (dst.container() == null)) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(), src.container() == null
                    ? "one of SRC and DEST must be CONTAINER:PATH" : "copying between containers is not supported");
        }
        Location in = src.container() != null ? src : dst;
        if (in.path().isEmpty()) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(), "\"" + in.container()
                    + ":\": the path in the container must not be empty");
        }
        try (ContainerRuntime runtime = ContainerRuntime.builder().stateRoot(GlobalOptions.of(spec).stateRoot()).storageRoot(GlobalOptions.of(spec).storageRoot())
                .cgroups(false).build()) {
            ContainerFiles files = runtime.files(in.container());
            if (src.container() != null) {
                if (dst.path().equals("-")) {
                    try (InputStream tar = files.copyFrom(src.path())) {
                        OutputStream out = System.out;
                        tar.transferTo(out);
                        out.flush();
                    }
                } else {
                    files.copyOut(src.path(), Path.of(dst.path()));
                }
            } else if (src.path().equals("-")) {
                files.copyTo(dst.path(), System.in);
            } else {
                files.copyIn(Path.of(src.path()), dst.path());
            }
            return 0;
        } catch (ContainerException | IOException e) {
            spec.commandLine().getErr().println("berth: cp: " + message(e));
            return 1;
        }
    }

    private static String message(Exception e) {
        if (e instanceof java.nio.file.NoSuchFileException n) {
            return n.getFile() + ": " + (n.getReason() != null ? n.getReason() : "no such file or directory");
        }
        return e.getMessage();
    }
}
