package dev.berth.examples.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.berth.network.Attachment;
import dev.berth.network.Network;
import dev.berth.network.NetworkException;
import dev.berth.network.NetworkSpec;
import dev.berth.network.Networks;
import dev.berth.network.Subnet;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code berth network create|ls|inspect|rm}: the bridge networks under the storage root. */
@Command(name = "network", description = "Manage networks.",
        subcommands = {NetworkCommand.Create.class, NetworkCommand.Ls.class, NetworkCommand.Inspect.class,
                NetworkCommand.Rm.class})
final class NetworkCommand extends CommandGroup {
    /** The options every network command takes. */
    static final class Common extends GlobalOptions.Roots {
        Networks networks() throws java.io.IOException {
            return Networks.open(storageRoot());
        }
    }

    @Command(name = "create", description = "Create a bridge network.")
    static final class Create implements Callable<Integer> {
        @Mixin
        Common common;

        @Spec
        picocli.CommandLine.Model.CommandSpec spec;

        @Option(names = "--subnet", paramLabel = "CIDR",
                description = "Its subnet (IPv4, and IPv6 for dual stack); default: the next free /24 of 10.89.0.0/16.")
        List<String> subnets = new ArrayList<>();

        @Option(names = "--gateway", paramLabel = "IP", description = "The IPv4 gateway (default: the subnet's first address).")
        String gateway;

        @Option(names = "--internal", description = "No masquerading to the outside.")
        boolean internal;

        @Parameters(index = "0", paramLabel = "NAME")
        String name;

        @Override
        public Integer call() throws Exception {
            NetworkSpec.Builder b = NetworkSpec.builder(name).internal(internal);
            try {
                for (String s : subnets) {
                    if (Subnet.parse(s).isIpv6()) {
                        b.ipv6Subnet(s);
                    } else {
                        b.subnet(s);
                    }
                }
                if (gateway != null) {
                    b.gateway(gateway);
                }
                System.out.println(common.networks().create(b.build()).id());
            } catch (IllegalArgumentException e) {
                throw new picocli.CommandLine.ParameterException(spec.commandLine(), e.getMessage(), e);
            }
            return 0;
        }
    }

    @Command(name = "ls", description = "List the networks.")
    static final class Ls implements Callable<Integer> {
        @Mixin
        Common common;

        @Option(names = {"-q", "--quiet"}, description = "Only the names.")
        boolean quiet;

        @Override
        public Integer call() throws Exception {
            if (!quiet) {
                System.out.printf("%-12s  %-20s  %-8s  %-9s  %s%n", "NETWORK ID", "NAME", "DRIVER", "BRIDGE", "SUBNETS");
            }
            for (Network n : common.networks().list()) {
                System.out.println(quiet ? n.name() : String.format("%-12s  %-20s  %-8s  %-9s  %s", n.id().substring(0, 12),
                        n.name(), "bridge", n.bridge(), String.join(",", n.ranges().stream()
                                .map(r -> r.subnet().toString()).toList())));
            }
            return 0;
        }
    }

    @Command(name = "inspect", description = "Show networks as JSON.")
    static final class Inspect extends EachName {
        @Mixin
        Common common;

        private final List<Map<String, Object>> out = new ArrayList<>();

        @Override
        boolean one(String name) throws Exception {
            Networks networks = common.networks();
            Optional<Network> n = networks.inspect(name);
            if (n.isEmpty()) {
                return failed(name, "no such network");
            }
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("Name", n.get().name());
            m.put("Id", n.get().id());
            m.put("Created", n.get().created().toString());
            m.put("Driver", "bridge");
            m.put("Bridge", n.get().bridge());
            m.put("Internal", n.get().internal());
            List<Map<String, String>> ipam = new ArrayList<>();
            for (Network.Range r : n.get().ranges()) {
                ipam.add(Map.of("Subnet", r.subnet().toString(), "Gateway", Subnet.format(r.gateway())));
            }
            m.put("Subnets", ipam);
            Map<String, Object> containers = new LinkedHashMap<>();
            for (Attachment a : networks.attachments(name)) {
                containers.put(a.containerId(), Map.of("Interface", a.ifName(), "MacAddress", a.mac(),
                        "Addresses", a.addresses()));
            }
            m.put("Containers", containers);
            out.add(m);
            return true;
        }

        @Override
        void done() throws Exception {
            System.out.println(new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(out));
        }
    }

    @Command(name = "rm", description = "Remove networks (not one a container is attached to).")
    static final class Rm extends EachName {
        @Mixin
        Common common;

        @Override
        boolean one(String name) throws Exception {
            try {
                if (!common.networks().remove(name)) {
                    return failed(name, "no such network");
                }
            } catch (NetworkException e) {
                return failed(name, e.getMessage());
            }
            System.out.println(name);
            return true;
        }
    }
}
