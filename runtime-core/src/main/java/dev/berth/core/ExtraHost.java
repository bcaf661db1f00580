package dev.berth.core;

import java.util.Objects;

/**
 * A line the runtime adds to the container's {@code /etc/hosts} (docker {@code --add-host}): {@code name}
 * resolves to {@code address} inside the container. Validated by {@link ContainerSpec.Builder#build()}.
 *
 * @param name    a host name (letters, digits, {@code -}, {@code _} and {@code .})
 * @param address an IPv4 or IPv6 address literal
 */
public record ExtraHost(String name, String address) {
    public ExtraHost {
        Objects.requireNonNull(name, "extraHosts: name");
        Objects.requireNonNull(address, "extraHosts: address");
    }
}
