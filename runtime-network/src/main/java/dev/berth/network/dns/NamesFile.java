package dev.berth.network.dns;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code names.json}, a network's name table as its {@link NameServer} reads it: the addresses to
 * listen on, the subnets whose hosts may ask, and one entry per container: its addresses, the
 * names it answers for (its host name, its id, its aliases), and whether it serves now (running,
 * and healthy when it has a health check). Written whole and renamed into place, so that the
 * server, which re-reads it when its inode changes, never sees half of it.
 */
public record NamesFile(String schema, List<String> listen, List<String> subnets, List<Entry> entries) {
    public static final String SCHEMA = "berth.names/v1";
    private static final ObjectMapper JSON = new ObjectMapper();

    public NamesFile {
        listen = listen == null ? List.of() : List.copyOf(listen);
        subnets = subnets == null ? List.of() : List.copyOf(subnets);
        entries = entries == null ? List.of() : List.copyOf(entries);
    }

    /** One container: {@code serving} false keeps it out of every answer (starting, unhealthy). */
    public record Entry(String id, List<String> addresses, List<String> names, boolean serving) {
        public Entry {
            addresses = addresses == null ? List.of() : List.copyOf(addresses);
            names = names == null ? List.of() : List.copyOf(names);
        }

        public Entry withServing(boolean s) {
            return new Entry(id, addresses, names, s);
        }
    }

    /** This table with the container's entry replaced (or added last). */
    public NamesFile with(Entry e) {
        List<Entry> out = new ArrayList<>(entries.stream().filter(x -> !x.id().equals(e.id())).toList());
        out.add(e);
        return new NamesFile(schema, listen, subnets, out);
    }

    /** This table without the container's entry. */
    public NamesFile without(String id) {
        return new NamesFile(schema, listen, subnets, entries.stream().filter(x -> !x.id().equals(id)).toList());
    }

    /**
     * Reads a table.
     *
     * @throws IOException naming the file: unreadable, not JSON, another schema
     */
    public static NamesFile read(Path f) throws IOException {
        NamesFile n;
        try {
            n = JSON.readValue(Files.readAllBytes(f), NamesFile.class);
        } catch (com.fasterxml.jackson.core.JacksonException e) {
            throw new IOException(f + ": " + e.getOriginalMessage(), e);
        }
        if (!SCHEMA.equals(n.schema())) {
            throw new IOException(f + ": schema \"" + n.schema() + "\" is not " + SCHEMA);
        }
        return n;
    }

    /** Writes the table beside {@code f} and renames it into place. */
    public void write(Path f) throws IOException {
        Path tmp = f.resolveSibling("." + f.getFileName() + ".tmp");
        Files.write(tmp, JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(this));
        try {
            Files.move(tmp, f, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(tmp, f, StandardCopyOption.REPLACE_EXISTING);
        }
    }
}
