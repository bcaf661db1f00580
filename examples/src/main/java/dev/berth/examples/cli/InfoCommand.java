package dev.berth.examples.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.berth.core.Preflight;
import dev.berth.core.SubordinateIds;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code berth info}: the preflight ({@link Preflight}) in podman info's layout, sections
 * {@code host:} and {@code security:}, one line a check, with its status and fix below it when it
 * is not ok; {@code --format json} for programs. Exits 0 whatever is missing: it reports.
 */
@Command(name = "info", description = "Show what this host offers Berth (rootful or rootless, kernel, cgroups and"
        + " delegation, user namespaces, idmapped mounts, seccomp, overlay, subordinate ids, networking tools) and"
        + " what to do about each missing piece.")
final class InfoCommand implements Callable<Integer> {
    @Option(names = "--help", usageHelp = true, description = "Show this help and exit.")
    boolean help;

    @Option(names = {"-f", "--format"}, paramLabel = "FORMAT", description = "json (default: the human layout).")
    String format;

    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        if (format != null && !format.equals("json")) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(), "--format: \"" + format
                    + "\" is not a format (json)");
        }
        Preflight.Report report = Preflight.run(GlobalOptions.of(spec).storageRoot(), SubordinateIds.SUBUID,
                SubordinateIds.SUBGID);
        System.out.print(format == null ? human(report) : json(report));
        System.out.flush();
        return 0;
    }

    /** podman info's layout: {@code section:}, then {@code   name: found}, and status and fix for what is not ok. */
    static String human(Preflight.Report report) {
        StringBuilder b = new StringBuilder();
        for (Preflight.Section section : Preflight.Section.values()) {
            b.append(section.label()).append(":\n");
            for (Preflight.Check c : report.section(section)) {
                b.append("  ").append(c.name()).append(": ").append(c.found()).append('\n');
                if (c.status() != Preflight.Status.OK) {
                    b.append("    status: ").append(c.status().label()).append('\n');
                }
                c.fix().ifPresent(f -> b.append("    fix: ").append(f).append('\n'));
            }
        }
        return b.toString();
    }

    /** {@code {"host": {"kernel": {"status": "ok", "found": "…"}, …}, "security": {…}}}; {@code fix} when there is one. */
    static String json(Preflight.Report report) throws com.fasterxml.jackson.core.JsonProcessingException {
        ObjectMapper mapper = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        ObjectNode root = mapper.createObjectNode();
        for (Preflight.Section section : Preflight.Section.values()) {
            ObjectNode s = root.putObject(section.label());
            for (Preflight.Check c : report.section(section)) {
                ObjectNode n = s.putObject(c.name());
                n.put("status", c.status().label());
                n.put("found", c.found());
                c.fix().ifPresent(f -> n.put("fix", f));
            }
        }
        return mapper.writeValueAsString(root) + "\n";
    }
}
