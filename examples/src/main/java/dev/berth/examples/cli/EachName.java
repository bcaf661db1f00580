package dev.berth.examples.cli;

import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * A subcommand over one or more names ({@code berth volume rm a b}, {@code berth network inspect x}):
 * runs {@link #one} for each, says what failed in one line each, and exits 1 if any did, as docker's.
 */
abstract class EachName implements Callable<Integer> {
    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Parameters(arity = "1..*", paramLabel = "NAME")
    List<String> names;

    /** Does the command for {@code name}; false when it failed (and said so). */
    abstract boolean one(String name) throws Exception;

    void done() throws Exception {}

    @Override
    public Integer call() throws Exception {
        int code = 0;
        for (String n : names) {
            if (!one(n)) {
                code = 1;
            }
        }
        done();
        return code;
    }

    /** {@code berth: volume rm NAME: why}. */
    boolean failed(String name, String why) {
        spec.commandLine().getErr().println("berth: " + spec.parent().name() + " " + spec.name() + " " + name + ": " + why);
        return false;
    }
}
