package dev.berth.examples.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.berth.core.ContainerInfo;
import dev.berth.core.ContainerStatus;
import java.time.Instant;
import java.util.Comparator;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code berth ps}: the containers of the state root, in docker's columns. */
@Command(name = "ps", description = "List containers (running ones; -a: all).", sortOptions = false)
final class PsCommand extends ContainerCommand {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Option(names = {"-a", "--all"}, description = "Show all containers, also the ones that ended.")
    boolean all;

    @Option(names = {"-q", "--quiet"}, description = "Only the ids.")
    boolean quiet;

    @Option(names = "--format", paramLabel = "FORMAT", description = "table (default) or json (one object a line).")
    String format = "table";

    @Override
    int run(Containers containers) throws Exception {
        if (!format.equals("table") && !format.equals("json")) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(),
                    "--format: expected table or json, got \"" + format + "\"");
        }
        Instant now = Instant.now();
        List<ContainerInfo> shown = containers.list().stream()
                .filter(i -> all || i.status() == ContainerStatus.RUNNING || i.status() == ContainerStatus.PAUSED)
                .sorted(Comparator.comparing(ContainerInfo::created).reversed()).toList();
        if (quiet) {
            shown.forEach(i -> out().println(shortId(i.id())));
        } else if (format.equals("json")) {
            for (ContainerInfo i : shown) {
                out().println(JSON.writeValueAsString(json(i, now)));
            }
        } else {
            out().print(table(shown, now));
        }
        return 0;
    }

    static String table(List<ContainerInfo> shown, Instant now) {
        Table t = new Table("CONTAINER ID", "IMAGE", "COMMAND", "CREATED", "STATUS", "NAMES");
        for (ContainerInfo i : shown) {
            t.row(shortId(i.id()), image(i), "\"" + truncate(command(i), 20) + "\"", HumanTime.ago(i.created(), now),
                    status(i, now), i.id());
        }
        return t.toString();
    }

    /** docker's keys for {@code --format json}. */
    static ObjectNode json(ContainerInfo i, Instant now) {
        ObjectNode o = JSON.createObjectNode();
        o.put("ID", shortId(i.id()));
        o.put("Image", image(i));
        o.put("Command", "\"" + command(i) + "\"");
        o.put("CreatedAt", i.created().toString());
        o.put("RunningFor", HumanTime.ago(i.created(), now));
        o.put("Status", status(i, now));
        o.put("State", i.status().label());
        o.put("Names", i.id());
        return o;
    }

    /** docker's STATUS: "Created", "Up 5 minutes", "Up 5 minutes (Paused)", "Exited (0) 3 minutes ago". */
    static String status(ContainerInfo i, Instant now) {
        return switch (i.status()) {
            case CREATED -> "Created";
            case RUNNING -> "Up " + HumanTime.duration(since(i.started().orElse(i.created()), now));
            case PAUSED -> "Up " + HumanTime.duration(since(i.started().orElse(i.created()), now)) + " (Paused)";
            case EXITED -> "Exited (" + i.exit().map(e -> e.shellCode()).orElse(0) + ") "
                    + HumanTime.ago(i.finished().orElse(i.created()), now);
            case RESTARTING -> "Restarting (" + i.exit().map(e -> e.shellCode()).orElse(0) + ") "
                    + HumanTime.ago(i.finished().orElse(i.created()), now);
        };
    }

    private static java.time.Duration since(Instant t, Instant now) {
        java.time.Duration d = java.time.Duration.between(t, now);
        return d.isNegative() ? java.time.Duration.ZERO : d;
    }

    static String image(ContainerInfo i) {
        return i.image().orElse(i.rootfs().orElse(""));
    }

    /** What the container runs, as far as its record says (the image's default when nothing was given). */
    static String command(ContainerInfo i) {
        return "";
    }

    /** docker's 12-character short id; a name (an id chosen by --name) is shown whole. */
    static String shortId(String id) {
        return id.length() > 12 && id.matches("[0-9a-f]+") ? id.substring(0, 12) : id;
    }

    static String truncate(String s, int max) {
        return s.length() <= max ? s : s.substring(0, max - 1) + "…";
    }
}
