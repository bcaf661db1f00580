package dev.berth.examples.cli;

import dev.berth.cgroups.CgroupStats;
import dev.berth.core.Container;
import dev.berth.core.ContainerInfo;
import dev.berth.core.ContainerStatus;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code berth stats}: CPU %, memory and pids of containers, in docker's columns; redrawn every
 * second until Ctrl-C, or printed once with {@code --no-stream}. Without names: every running
 * container (at the time of each redraw).
 */
@Command(name = "stats", description = "Show containers' resource usage (every second; --no-stream: once).",
        sortOptions = false)
final class StatsCommand extends ContainerCommand {
    static final Duration INTERVAL = Duration.ofSeconds(1);
    private static final String CLEAR = "\033[2J\033[H";

    @Option(names = "--no-stream", description = "Print one snapshot and exit.")
    boolean noStream;

    @Parameters(arity = "0..*", paramLabel = "CONTAINER", description = "Container ids or unique id prefixes.")
    List<String> names = new ArrayList<>();

    @Override
    int run(Containers containers) throws Exception {
        List<ContainerInfo> all = containers.list();
        // named containers must exist now; unnamed: whatever runs at each redraw
        List<String> fixed = names.isEmpty() ? null : new ArrayList<>(targets(all, names, (c, n) -> null).keySet());
        long hostMemory = hostMemory();
        Map<String, CgroupStats> previous = new HashMap<>();
        Map<String, Container> handles = new LinkedHashMap<>();
        try {
            sample(containers, fixed, handles, previous, null);
            while (true) {
                long t0 = System.nanoTime();
                Thread.sleep(INTERVAL.toMillis());
                Duration elapsed = Duration.ofNanos(System.nanoTime() - t0);
                Table t = new Table("CONTAINER ID", "NAME", "CPU %", "MEM USAGE / LIMIT", "MEM %", "PIDS");
                sample(containers, fixed, handles, previous, (id, before, now) -> {
                    StatsFigures f = StatsFigures.of(before, now, elapsed, hostMemory);
                    t.row(PsCommand.shortId(id), id, StatsFigures.percent(f.cpuPercent()), f.memory(),
                            StatsFigures.percent(f.memPercent()), Long.toString(f.pids()));
                });
                if (!noStream) {
                    out().print(CLEAR);
                }
                out().print(t);
                out().flush();
                if (noStream) {
                    return 0;
                }
            }
        } finally {
            handles.values().forEach(Container::close);
        }
    }

    interface Row {
        void add(String id, CgroupStats before, CgroupStats now);
    }

    /** One snapshot of each container shown; {@code row} gets it with the one before. */
    private void sample(Containers containers, List<String> fixed, Map<String, Container> handles,
            Map<String, CgroupStats> previous, Row row) {
        List<String> ids = fixed != null ? fixed : containers.list().stream()
                .filter(i -> i.status() == ContainerStatus.RUNNING || i.status() == ContainerStatus.PAUSED)
                .map(ContainerInfo::id).toList();
        handles.entrySet().removeIf(h -> {
            if (ids.contains(h.getKey())) {
                return false;
            }
            h.getValue().close(); // no longer shown: release its handle
            return true;
        });
        for (String id : ids) {
            CgroupStats now;
            try {
                now = handles.computeIfAbsent(id, containers::open).stats();
            } catch (RuntimeException e) {
                continue; // it ended and went between the listing and the read
            }
            CgroupStats before = previous.put(id, now);
            if (row != null) {
                row.add(id, before, now);
            }
        }
    }

    /** MemTotal of /proc/meminfo in bytes: the limit docker shows for a container without one. */
    static long hostMemory() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/meminfo"))) {
                if (line.startsWith("MemTotal:")) {
                    return Long.parseLong(line.replaceAll("\\D", "")) * 1024;
                }
            }
        } catch (IOException | NumberFormatException e) {
            // below
        }
        return Long.MAX_VALUE;
    }
}
