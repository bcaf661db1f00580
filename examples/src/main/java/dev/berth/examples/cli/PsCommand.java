package dev.berth.examples.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.berth.core.ContainerInfo;
import java.time.Instant;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code berth ps}: the containers of the state root, in docker's columns. Health and restarts are
 * what the state records: they are kept up to date by the berth process that supervises the
 * container ({@code berth run} without {@code -d}) while it runs.
 */
@Command(name = "ps", description = {"List containers (running ones; -a: all).",
        "Health checks and restarts are done by the berth process that runs the container (berth run without -d),"
                + " while it runs: STATUS shows the health it last recorded."}, sortOptions = false)
final class PsCommand extends ContainerCommand {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** docker's width of a truncated COMMAND. */
    private static final int COMMAND_WIDTH = 20;
    /** Statuses {@code ps} without {@code -a} leaves out, as docker's (it lists running, paused and restarting ones). */
    private static final Set<String> ENDED = Set.of("created", "exited", "dead", "removing");

    @Option(names = {"-a", "--all"}, description = "Show all containers, also the ones that ended.")
    boolean all;

    @Option(names = {"-q", "--quiet"}, description = "Only the ids.")
    boolean quiet;

    @Option(names = "--no-trunc", description = "Show the whole command and id.")
    boolean noTrunc;

    @Option(names = "--format", paramLabel = "FORMAT",
            description = "table (default) or json (one object a line: command, status, health, restart count, ports,"
                    + " created time).")
    String format = "table";

    @Override
    int run(Containers containers) throws Exception {
        if (!format.equals("table") && !format.equals("json")) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(),
                    "--format: expected table or json, got \"" + format + "\"");
        }
        Instant now = Instant.now();
        List<ContainerInfo> shown = containers.list().stream()
                .filter(i -> all || !ENDED.contains(i.status().label()))
                .sorted(Comparator.comparing(ContainerInfo::created).reversed()).toList();
        if (quiet) {
            shown.forEach(i -> out().println(noTrunc ? i.id() : shortId(i.id())));
        } else if (format.equals("json")) {
            for (ContainerInfo i : shown) {
                out().println(JSON.writeValueAsString(json(i, now)));
            }
        } else {
            out().print(table(shown, now, !noTrunc));
        }
        return 0;
    }

    static String table(List<ContainerInfo> shown, Instant now, boolean trunc) {
        Table t = new Table("CONTAINER ID", "IMAGE", "COMMAND", "CREATED", "STATUS", "PORTS", "NAMES");
        for (ContainerInfo i : shown) {
            t.row(trunc ? shortId(i.id()) : i.id(), image(i),
                    quote(trunc ? truncate(command(i), COMMAND_WIDTH) : command(i)),
                    HumanTime.ago(i.created(), now), status(i, now), ports(i), i.id());
        }
        return t.toString();
    }

    /** docker's keys for {@code --format json}, and Health and RestartCount (podman's Restarts). */
    static ObjectNode json(ContainerInfo i, Instant now) {
        ObjectNode o = JSON.createObjectNode();
        o.put("ID", shortId(i.id()));
        o.put("Image", image(i));
        o.put("Command", quote(command(i)));
        o.put("CreatedAt", i.created().toString());
        o.put("RunningFor", HumanTime.ago(i.created(), now));
        o.put("Ports", ports(i));
        o.put("Status", status(i, now));
        o.put("State", i.status().label());
        o.put("Health", i.health().map(h -> h.label()).orElse(""));
        o.put("RestartCount", i.restartCount());
        o.put("Names", i.id());
        return o;
    }

    /**
     * docker's STATUS: "Created", "Up 5 minutes", "Up 5 minutes (healthy)", "Up 2 seconds (health:
     * starting)", "Up 5 minutes (Paused)", "Restarting (1) 3 seconds ago", "Exited (0) 3 minutes ago";
     * a status this list does not know shows its label, capitalised.
     */
    static String status(ContainerInfo i, Instant now) {
        String exit = "(" + i.exit().map(e -> e.shellCode()).orElse(0) + ") "
                + HumanTime.ago(i.finished().orElse(i.created()), now);
        String up = "Up " + HumanTime.duration(since(i.started().orElse(i.created()), now));
        String label = i.status().label();
        return switch (label) {
            case "created" -> "Created";
            case "running" -> up + i.health().map(h -> switch (h) {
                case STARTING -> " (health: starting)";
                default -> " (" + h.label() + ")";
            }).orElse("");
            case "paused" -> up + " (Paused)";
            case "restarting" -> "Restarting " + exit;
            case "exited" -> "Exited " + exit;
            default -> label.isEmpty() ? label : Character.toUpperCase(label.charAt(0)) + label.substring(1);
        };
    }

    private static java.time.Duration since(Instant t, Instant now) {
        java.time.Duration d = java.time.Duration.between(t, now);
        return d.isNegative() ? java.time.Duration.ZERO : d;
    }

    static String image(ContainerInfo i) {
        return i.image().orElse(i.rootfs().orElse(""));
    }

    /**
     * What the container runs, as docker's list shows it: the program, then its arguments, one
     * holding a space in single quotes ({@code sh -c 'sleep 100'}).
     */
    static String command(ContainerInfo i) {
        StringBuilder b = new StringBuilder();
        for (String arg : i.command()) {
            if (!b.isEmpty()) {
                b.append(' ').append(arg.contains(" ") ? "'" + arg + "'" : arg);
            } else {
                b.append(arg);
            }
        }
        return b.toString();
    }

    /** Its published ports as docker writes them ({@code 127.0.0.1:8080->80/tcp, ...}). */
    static String ports(ContainerInfo i) {
        return i.network().map(n -> n.ports().stream().map(Object::toString).collect(Collectors.joining(", ")))
                .orElse("");
    }

    /** Go's strconv.Quote, as docker quotes COMMAND: in double quotes, with \\, \" and control characters escaped. */
    static String quote(String s) {
        StringBuilder b = new StringBuilder("\"");
        for (int k = 0; k < s.length(); k++) {
            char c = s.charAt(k);
            switch (c) {
                case '"' -> b.append("\\\"");
                case '\\' -> b.append("\\\\");
                case '\n' -> b.append("\\n");
                case '\t' -> b.append("\\t");
                case '\r' -> b.append("\\r");
                default -> {
                    if (c < 0x20 || c == 0x7f) {
                        b.append(String.format("\\x%02x", (int) c));
                    } else {
                        b.append(c);
                    }
                }
            }
        }
        return b.append('"').toString();
    }

    /** docker's 12-character short id; a name (an id chosen by --name) is shown whole. */
    static String shortId(String id) {
        return id.length() > 12 && id.matches("[0-9a-f]+") ? id.substring(0, 12) : id;
    }

    /** docker's Ellipsis: at most {@code max} characters, the last one "…" when cut. */
    static String truncate(String s, int max) {
        return s.codePointCount(0, s.length()) <= max ? s
                : s.substring(0, s.offsetByCodePoints(0, max - 1)) + "…";
    }
}
