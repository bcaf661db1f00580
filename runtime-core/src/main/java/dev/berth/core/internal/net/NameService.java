package dev.berth.core.internal.net;

import dev.berth.network.Network;
import java.io.IOException;
import java.util.List;

/**
 * Names on a user network: each container is found by the others under its name, id and aliases;
 * an alias several containers share answers with all of them that serve, in rotating order.
 */
public interface NameService {
    /**
     * Adds the container's entries; the network's server runs from the first one on.
     *
     * @param serving whether its addresses are in the answers now (false for a container whose
     *                health check has not passed yet)
     */
    void add(Network network, String containerId, List<String> addresses, List<String> names, boolean serving)
            throws IOException;

    /** Puts the container's addresses in its names' answers, or takes them out (health); not listed: nothing. */
    void serve(String network, String containerId, boolean serving) throws IOException;

    /** Removes the container's entries (none: nothing to do); the server stops with the last one. */
    void remove(String network, String containerId) throws IOException;

    /** The name server address a container of the network is given in its resolv.conf, if the network has one. */
    default java.util.Optional<String> server(Network network) {
        return java.util.Optional.empty();
    }

    /** No names (tests, and hosts without a name server). */
    NameService NONE = new NameService() {
        @Override
        public void add(Network network, String containerId, List<String> addresses, List<String> names,
                boolean serving) {}

        @Override
        public void serve(String network, String containerId, boolean serving) {}

        @Override
        public void remove(String network, String containerId) {}
    };
}
