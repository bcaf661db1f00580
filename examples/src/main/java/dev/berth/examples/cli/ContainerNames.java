package dev.berth.examples.cli;

import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * How a command's NAME finds a container, as docker's: the exact id, else the one id it is a
 * prefix of. Every name is looked up before any is acted on, so a command with one bad name changes
 * nothing.
 */
final class ContainerNames {
    private ContainerNames() {}

    /** A name that finds no container, or more than one. */
    static final class LookupException extends Exception {
        private static final long serialVersionUID = 1L;

        LookupException(String message) {
            super(message);
        }
    }

    /** The id {@code name} stands for among {@code ids}. */
    static String resolve(Collection<String> ids, String name) throws LookupException {
        if (name == null || name.isEmpty()) {
            throw new LookupException("Error response from daemon: No such container: " + (name == null ? "" : name));
        }
        if (ids.contains(name)) {
            return name;
        }
        List<String> matches = new ArrayList<>();
        for (String id : ids) {
            if (id.startsWith(name)) {
                matches.add(id);
            }
        }
        if (matches.isEmpty()) {
            throw new LookupException("Error response from daemon: No such container: " + name);
        }
        if (matches.size() > 1) {
            matches.sort(null);
            throw new LookupException("Error response from daemon: " + name + " is ambiguous: it is a prefix of " + matches.size()
                    + " containers (" + String.join(", ", matches.subList(0, Math.min(5, matches.size())))
                    + (matches.size() > 5 ? ", ..." : "") + "); give more of the id");
        }
        return matches.get(0);
    }

    /**
     * Every name's id, in order, with the name as given (a container named twice is acted on once).
     *
     * @throws LookupException with one line per name that failed
     */
    static Map<String, String> resolveAll(Collection<String> ids, List<String> names) throws LookupException {
        Map<String, String> found = new LinkedHashMap<>();
        List<String> errors = new ArrayList<>();
        for (String n : names) {
            try {
                found.putIfAbsent(resolve(ids, n), n);
            } catch (LookupException e) {
                errors.add(e.getMessage());
            }
        }
        if (!errors.isEmpty()) {
            throw new LookupException(String.join("\n", errors));
        }
        return found;
    }
}
