package dev.berth.core;

import java.util.Objects;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * Which network a container is on (docker's {@code --network}): an immutable value.
 *
 * <ul>
 *   <li>{@link #none()}: a network namespace of its own with loopback only (the API's default);</li>
 *   <li>{@link #host()}: the host's network namespace;</li>
 *   <li>{@link #bridge()}: the default network {@code bridge}, made on first use;</li>
 *   <li>{@link #network(String)}: a user network of {@code ContainerRuntime.networks()}, where
 *       containers find each other by name and alias;</li>
 *   <li>{@link #container(String)}: the network namespace of another running container (a sidecar);</li>
 *   <li>{@link #pasta()}, {@link #slirp4netns()}: a network namespace of its own connected to the host by
 *       the user-mode tool of that name (podman's rootless networks), with published ports; it needs
 *       no privilege.</li>
 * </ul>
 */
public final class NetworkMode {
    /** The kinds of network mode. */
    public enum Kind { NONE, HOST, BRIDGE, NETWORK, CONTAINER, PASTA, SLIRP4NETNS }

    /** A network's name: as {@code dev.berth.network.NetworkSpec.NAME}. */
    static final Pattern NETWORK_NAME = Pattern.compile("[a-zA-Z0-9][a-zA-Z0-9_.-]{0,63}");
    /** A container id: as the state root's. */
    static final Pattern CONTAINER_ID = Pattern.compile("[a-zA-Z0-9][a-zA-Z0-9_.-]{0,127}");

    private static final NetworkMode NONE = new NetworkMode(Kind.NONE, null);
    private static final NetworkMode HOST = new NetworkMode(Kind.HOST, null);
    private static final NetworkMode BRIDGE = new NetworkMode(Kind.BRIDGE, null);
    private static final NetworkMode PASTA = new NetworkMode(Kind.PASTA, null);
    private static final NetworkMode SLIRP4NETNS = new NetworkMode(Kind.SLIRP4NETNS, null);

    private final Kind kind;
    private final String name;

    private NetworkMode(Kind kind, String name) {
        this.kind = kind;
        this.name = name;
    }

    public static NetworkMode none() {
        return NONE;
    }

    public static NetworkMode host() {
        return HOST;
    }

    public static NetworkMode bridge() {
        return BRIDGE;
    }

    /** pasta (Debian's passt package) connects the container's own network namespace to the host. */
    public static NetworkMode pasta() {
        return PASTA;
    }

    /** slirp4netns connects the container's own network namespace to the host. */
    public static NetworkMode slirp4netns() {
        return SLIRP4NETNS;
    }

    /**
     * A user network by name; {@code "bridge"} is {@link #bridge()}.
     *
     * @throws IllegalArgumentException naming the field {@code network}
     */
    public static NetworkMode network(String name) {
        if (name == null || !NETWORK_NAME.matcher(name).matches()) {
            throw new IllegalArgumentException("network: \"" + name + "\" is not a network name ("
                    + NETWORK_NAME.pattern() + ")");
        }
        return name.equals("bridge") ? BRIDGE : new NetworkMode(Kind.NETWORK, name);
    }

    /** The network namespace of the running container {@code id}. */
    public static NetworkMode container(String id) {
        if (id == null || !CONTAINER_ID.matcher(id).matches()) {
            throw new IllegalArgumentException("network: \"container:" + id + "\" does not name a container id");
        }
        return new NetworkMode(Kind.CONTAINER, id);
    }

    /**
     * Docker's and podman's spelling: {@code none}, {@code host}, {@code bridge}, {@code pasta},
     * {@code slirp4netns}, {@code container:ID} or a network name.
     *
     * @throws IllegalArgumentException naming the field {@code network}
     */
    public static NetworkMode parse(String text) {
        Objects.requireNonNull(text, "network");
        return switch (text) {
            case "none" -> NONE;
            case "host" -> HOST;
            case "bridge", "default" -> BRIDGE;
            case "pasta" -> PASTA;
            case "slirp4netns" -> SLIRP4NETNS;
            default -> text.startsWith("container:") ? container(text.substring("container:".length())) : network(text);
        };
    }

    public Kind kind() {
        return kind;
    }

    /** The user network's name, or the container's id; empty for the other kinds. */
    public Optional<String> name() {
        return Optional.ofNullable(name);
    }

    /** Whether the container is attached to a network through CNI (bridge or a user network). */
    public boolean attaches() {
        return kind == Kind.BRIDGE || kind == Kind.NETWORK;
    }

    /** Whether a user-mode tool (pasta, slirp4netns) connects the container, without CNI. */
    public boolean userMode() {
        return kind == Kind.PASTA || kind == Kind.SLIRP4NETNS;
    }

    /** Whether the container can publish ports: on a CNI network or through a user-mode tool. */
    public boolean publishes() {
        return attaches() || userMode();
    }

    /** The network's name for CNI: {@code bridge} or the user network's. */
    public Optional<String> networkName() {
        return kind == Kind.BRIDGE ? Optional.of("bridge") : kind == Kind.NETWORK ? Optional.of(name) : Optional.empty();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof NetworkMode m && m.kind == kind && Objects.equals(m.name, name);
    }

    @Override
    public int hashCode() {
        return Objects.hash(kind, name);
    }

    /** As {@link #parse} reads it. */
    @Override
    public String toString() {
        return switch (kind) {
            case NONE -> "none";
            case HOST -> "host";
            case BRIDGE -> "bridge";
            case NETWORK -> name;
            case CONTAINER -> "container:" + name;
            case PASTA -> "pasta";
            case SLIRP4NETNS -> "slirp4netns";
        };
    }
}
