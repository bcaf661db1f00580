package dev.berth.examples.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.berth.core.ContainerInfo;
import dev.berth.core.ContainerStatus;
import dev.berth.core.ExitStatus;
import dev.berth.core.UserNamespace;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** {@code berth inspect}: what is recorded of containers, as a JSON array in docker's shape. */
@Command(name = "inspect", description = "Show containers' recorded details as a JSON array.")
final class InspectCommand extends ContainerCommand {
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    /** Go's zero time, docker's "never" for StartedAt/FinishedAt. */
    private static final String NEVER = "0001-01-01T00:00:00Z";

    @Parameters(arity = "1..*", paramLabel = "CONTAINER", description = "Container ids or unique id prefixes.")
    List<String> names;

    @Override
    int run(Containers containers) throws Exception {
        List<ContainerInfo> all = containers.list();
        Map<String, String> targets = targets(all, names, (c, n) -> null);
        ArrayNode array = JSON.createArrayNode();
        targets.keySet().forEach(id -> array.add(json(info(all, id))));
        out().println(JSON.writeValueAsString(array));
        return 0;
    }

    static ObjectNode json(ContainerInfo i) {
        ObjectNode o = JSON.createObjectNode();
        o.put("Id", i.id());
        o.put("Name", "/" + i.id());
        o.put("Created", i.created().toString());
        ExitStatus exit = i.exit().orElse(null);
        ObjectNode state = o.putObject("State");
        state.put("Status", i.status().label());
        state.put("Running", i.status() == ContainerStatus.RUNNING || i.status() == ContainerStatus.PAUSED);
        state.put("Paused", i.status() == ContainerStatus.PAUSED);
        state.put("OOMKilled", exit != null && exit.oomKilled());
        state.put("Pid", i.status() == ContainerStatus.EXITED ? 0 : i.pid());
        state.put("ExitCode", exit == null ? 0 : exit.shellCode());
        if (exit != null && exit.terminatingSignal().isPresent()) {
            state.put("Signal", exit.terminatingSignal().getAsInt());
        }
        state.put("StartedAt", i.started().map(Instant::toString).orElse(NEVER));
        state.put("FinishedAt", i.finished().map(Instant::toString).orElse(NEVER));
        i.health().ifPresent(h -> state.putObject("Health").put("Status", h.label()));
        if (!i.command().isEmpty()) {
            o.put("Path", i.command().get(0));
            ArrayNode args = o.putArray("Args");
            i.command().subList(1, i.command().size()).forEach(args::add);
        }
        o.put("RestartCount", i.restartCount());
        o.put("Image", i.image().orElse(""));
        if (i.rootfs().isPresent()) {
            o.put("Rootfs", i.rootfs().get());
        }
        o.put("Owner", switch (i.owner()) {
            case THIS_RUNTIME, ANOTHER_RUNTIME -> "attached";
            case DETACHED -> "detached";
            case NONE -> "orphaned";
        });
        i.userNamespace().ifPresent(ns -> userNamespace(o.putObject("HostConfig"), ns));
        return o;
    }

    /**
     * podman's spelling: {@code UsernsMode} {@code "private"} with {@code IDMappings} ({@code UidMap} and {@code GidMap},
     * {@code CONTAINER:HOST:SIZE} per line) for a user namespace of its own, {@code "host"} without one. Nothing for a
     * container whose state does not say (written by an older Berth).
     */
    private static void userNamespace(ObjectNode hostConfig, UserNamespace ns) {
        if (ns.isHost()) {
            hostConfig.put("UsernsMode", "host");
            return;
        }
        hostConfig.put("UsernsMode", "private");
        ObjectNode maps = hostConfig.putObject("IDMappings");
        ArrayNode uids = maps.putArray("UidMap");
        ns.uidMap().forEach(m -> uids.add(m.toString()));
        ArrayNode gids = maps.putArray("GidMap");
        ns.gidMap().forEach(m -> gids.add(m.toString()));
    }
}
