package dev.berth.examples.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.berth.core.Volume;
import dev.berth.core.Volumes;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code berth volume create|ls|inspect|rm}: the named volumes under the storage root. */
@Command(name = "volume", description = "Manage named volumes.",
        subcommands = {VolumeCommand.Create.class, VolumeCommand.Ls.class, VolumeCommand.Inspect.class,
                VolumeCommand.Rm.class})
final class VolumeCommand extends CommandGroup {
    /** The options every volume command takes. */
    static final class Common extends GlobalOptions.Roots {
        Volumes volumes() {
            return Volumes.at(storageRoot());
        }
    }

    @Command(name = "create", description = "Create a volume (an existing one is kept as it is).")
    static final class Create implements Callable<Integer> {
        @Mixin
        Common common;

        @Parameters(index = "0", paramLabel = "NAME")
        String name;

        @Override
        public Integer call() throws Exception {
            System.out.println(common.volumes().create(name).name());
            return 0;
        }
    }

    @Command(name = "ls", description = "List the volumes.")
    static final class Ls implements Callable<Integer> {
        @Mixin
        Common common;

        @Option(names = {"-q", "--quiet"}, description = "Only the names.")
        boolean quiet;

        @Override
        public Integer call() throws Exception {
            if (!quiet) {
                System.out.printf("%-8s %s%n", "DRIVER", "VOLUME NAME");
            }
            for (Volume v : common.volumes().list()) {
                System.out.println(quiet ? v.name() : String.format("%-8s %s", "local", v.name()));
            }
            return 0;
        }
    }

    @Command(name = "inspect", description = "Show volumes as JSON.")
    static final class Inspect extends EachName {
        @Mixin
        Common common;

        private final List<Map<String, String>> out = new ArrayList<>();

        @Override
        boolean one(String name) throws Exception {
            Optional<Volume> v = common.volumes().inspect(name);
            if (v.isEmpty()) {
                return failed(name, "no such volume");
            }
            Map<String, String> m = new LinkedHashMap<>();
            m.put("Name", v.get().name());
            m.put("Driver", "local");
            m.put("Mountpoint", v.get().mountpoint().toString());
            m.put("CreatedAt", v.get().createdAt().toString());
            out.add(m);
            return true;
        }

        @Override
        void done() throws Exception {
            System.out.println(new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(out));
        }
    }

    @Command(name = "rm", description = "Remove volumes (not one a container uses).")
    static final class Rm extends EachName {
        @Mixin
        Common common;

        @Override
        boolean one(String name) throws Exception {
            try {
                if (!common.volumes().remove(name)) {
                    return failed(name, "no such volume");
                }
            } catch (IllegalStateException e) {
                return failed(name, e.getMessage() + " (close it first)");
            }
            System.out.println(name);
            return true;
        }
    }
}
