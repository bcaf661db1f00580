package dev.berth.examples.cli;

import dev.berth.core.ContainerInfo;
import dev.berth.core.ContainerRuntime;
import dev.berth.network.PortMapping;
import dev.berth.network.Subnet;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code berth port ID [PORT[/PROTO]]}: a running container's published ports, as docker prints them. */
@Command(name = "port", description = "List a container's published ports (or the host address of one).")
final class PortCommand implements Callable<Integer> {
    @Option(names = "--help", usageHelp = true, description = "Show this help and exit.")
    boolean help;


    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Parameters(index = "0", paramLabel = "CONTAINER")
    String id;

    @Parameters(index = "1", arity = "0..1", paramLabel = "PORT[/PROTO]")
    String port;

    @Override
    public Integer call() throws Exception {
        String[] want = port == null ? null : port.split("/", 2);
        if (want != null && (!want[0].matches("\\d{1,5}") || (want.length == 2 && !want[1].matches("tcp|udp")))) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(), "PORT: expected PORT[/tcp|/udp], got \""
                    + port + "\"");
        }
        Optional<ContainerInfo> info;
        try (ContainerRuntime runtime = ContainerRuntime.builder().stateRoot(GlobalOptions.of(spec).stateRoot()).storageRoot(GlobalOptions.of(spec).storageRoot())
                .reconcile(false).build()) {
            info = runtime.list().stream().filter(i -> i.id().equals(id)).findFirst();
        }
        if (info.isEmpty()) {
            spec.commandLine().getErr().println("berth: no such container: " + id + " (see 'berth port --help')");
            return BerthCli.EXIT_RUNTIME;
        }
        List<PortMapping> ports = info.get().network().map(n -> n.ports()).orElse(List.of());
        boolean any = false;
        for (PortMapping p : ports) {
            if (want == null) {
                spec.commandLine().getOut().println(p.containerPort() + "/" + p.protocol() + " -> " + host(p));
                any = true;
            } else if (p.containerPort() == Integer.parseInt(want[0])
                    && p.protocol().equals(want.length == 2 ? want[1] : "tcp")) {
                spec.commandLine().getOut().println(host(p));
                any = true;
            }
        }
        if (want != null && !any) {
            spec.commandLine().getErr().println("berth: container " + id + " publishes no port " + port
                    + " (see 'berth port " + id + "')");
            return BerthCli.EXIT_RUNTIME;
        }
        return 0;
    }

    private static String host(PortMapping p) {
        String ip = Subnet.format(p.hostIp());
        return (ip.contains(":") ? "[" + ip + "]" : ip) + ":" + p.hostPort();
    }
}
