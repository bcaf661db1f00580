package dev.berth.network;

import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * What to create: a bridge network by name, with its IPv4 subnet and gateway (chosen from
 * {@code 10.89.0.0/16} in /24 steps when not given, as podman does) and, where asked, an IPv6
 * subnet. Immutable; {@link Builder#build()} validates and names the field it refuses.
 */
public final class NetworkSpec {
    /** docker's network names: a letter or digit, then letters, digits, '_', '.', '-'. */
    public static final Pattern NAME = Pattern.compile("[a-zA-Z0-9][a-zA-Z0-9_.-]{0,63}");

    private final String name;
    private final Optional<Subnet> subnet;
    private final Optional<InetAddress> gateway;
    private final Optional<Subnet> ipv6Subnet;
    private final boolean internal;

    private NetworkSpec(Builder b) {
        this.name = b.name;
        this.subnet = Optional.ofNullable(b.subnet);
        this.gateway = Optional.ofNullable(b.gateway);
        this.ipv6Subnet = Optional.ofNullable(b.ipv6Subnet);
        this.internal = b.internal;
    }

    public static Builder builder(String name) {
        return new Builder(name);
    }

    public String name() {
        return name;
    }

    /** The IPv4 subnet; empty: the next free /24 of 10.89.0.0/16. */
    public Optional<Subnet> subnet() {
        return subnet;
    }

    /** The IPv4 gateway (the bridge's address); empty: the subnet's first host. */
    public Optional<InetAddress> gateway() {
        return gateway;
    }

    /** An IPv6 subnet as well (dual stack), gateway its first host. */
    public Optional<Subnet> ipv6Subnet() {
        return ipv6Subnet;
    }

    /** No masquerading to the outside (docker {@code --internal}): containers reach each other and the host only. */
    public boolean internal() {
        return internal;
    }

    /** Builds a {@link NetworkSpec}. */
    public static final class Builder {
        private final String name;
        private Subnet subnet;
        private InetAddress gateway;
        private Subnet ipv6Subnet;
        private boolean internal;

        private Builder(String name) {
            this.name = name;
        }

        /** The IPv4 subnet in CIDR notation (docker {@code --subnet 10.90.0.0/24}). */
        public Builder subnet(String cidr) {
            this.subnet = field("subnet", () -> Subnet.parse(cidr));
            return this;
        }

        /** The IPv4 gateway (docker {@code --gateway 10.90.0.1}). */
        public Builder gateway(String address) {
            this.gateway = field("gateway", () -> Subnet.address(address, address));
            return this;
        }

        /** An IPv6 subnet (docker {@code --ipv6 --subnet fd00:90::/64}). */
        public Builder ipv6Subnet(String cidr) {
            this.ipv6Subnet = field("ipv6Subnet", () -> Subnet.parse(cidr));
            return this;
        }

        public Builder internal(boolean internal) {
            this.internal = internal;
            return this;
        }

        /** @throws IllegalArgumentException naming the field that is wrong */
        public NetworkSpec build() {
            if (name == null || !NAME.matcher(name).matches()) {
                throw new IllegalArgumentException("name: \"" + name + "\" is not a network name ("
                        + NAME.pattern() + ")");
            }
            if (subnet != null && subnet.isIpv6()) {
                throw new IllegalArgumentException("subnet: " + subnet + " is IPv6; give it as ipv6Subnet");
            }
            if (ipv6Subnet != null && !ipv6Subnet.isIpv6()) {
                throw new IllegalArgumentException("ipv6Subnet: " + ipv6Subnet + " is not IPv6");
            }
            if (subnet != null && subnet.prefix() > 30) {
                throw new IllegalArgumentException("subnet: " + subnet + " holds no address for a container besides"
                        + " the gateway (at most /30)");
            }
            if (ipv6Subnet != null && ipv6Subnet.prefix() > 126) {
                throw new IllegalArgumentException("ipv6Subnet: " + ipv6Subnet + " is too small (at most /126)");
            }
            if (gateway != null) {
                if (subnet == null) {
                    throw new IllegalArgumentException("gateway: " + gateway.getHostAddress() + " needs a subnet");
                }
                if (!subnet.contains(gateway) || gateway.equals(subnet.address())) {
                    throw new IllegalArgumentException("gateway: " + gateway.getHostAddress()
                            + " is not a host address of subnet " + subnet);
                }
            }
            return new NetworkSpec(this);
        }

        private static <T> T field(String field, java.util.function.Supplier<T> parse) {
            try {
                return Objects.requireNonNull(parse.get(), field);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(field + ": " + e.getMessage(), e);
            }
        }
    }

    /** The subnets of a spec, IPv4 first. */
    List<Subnet> subnets() {
        List<Subnet> out = new ArrayList<>();
        subnet.ifPresent(out::add);
        ipv6Subnet.ifPresent(out::add);
        return out;
    }
}
