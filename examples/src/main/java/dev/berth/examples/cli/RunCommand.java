package dev.berth.examples.cli;

import dev.berth.cgroups.DeviceRule;
import dev.berth.cgroups.DeviceThrottle;
import dev.berth.cgroups.Resources;
import dev.berth.core.Capability;
import dev.berth.core.Container;
import dev.berth.core.ContainerException;
import dev.berth.core.ContainerRuntime;
import dev.berth.core.ContainerSpec;
import dev.berth.core.ContainerStartException;
import dev.berth.core.Device;
import dev.berth.core.ExitStatus;
import dev.berth.core.ExtraHost;
import dev.berth.core.LogConfig;
import dev.berth.core.Namespace;
import dev.berth.core.Rlimit;
import dev.berth.core.Seccomp;
import dev.berth.core.Stdio;
import dev.berth.core.TerminalSize;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code berth run}: starts one container with stdio attached and exits with its code. */
@Command(name = "run", description = "Run a command in a new container, from an image or a root directory.",
        sortOptions = false)
final class RunCommand implements Callable<Integer> {
    // --help only: -h is --hostname in run, as in docker
    @Option(names = "--help", usageHelp = true, description = "Show this help and exit.")
    boolean help;

    private static final int ENOENT = 2;
    private static final int ENOEXEC = 8;
    private static final int EACCES = 13;

    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Option(names = "--rootfs", paramLabel = "DIR",
            description = "Root directory of the container (instead of an IMAGE).")
    Path rootfs;

    @Option(names = "--entrypoint", paramLabel = "CMD", description = "Replace the image's entrypoint.")
    String entrypoint;

    @Option(names = "--name", paramLabel = "ID", description = "Container id (generated when absent).")
    String name;

    @Option(names = {"-h", "--hostname"}, paramLabel = "H", description = "Hostname (default: the container id).")
    String hostname;

    @Option(names = {"-e", "--env"}, paramLabel = "K=V",
            description = "Set an environment variable; K alone takes it from this environment (unset if absent).")
    List<String> env = new ArrayList<>();

    @Option(names = "--env-file", paramLabel = "FILE",
            description = "Read variables from a file: K=V or K a line, # comments (docker's format).")
    List<Path> envFiles = new ArrayList<>();

    @Option(names = "--add-host", paramLabel = "NAME:IP", description = "Add a line to /etc/hosts (e.g. db:10.0.0.5).")
    List<String> addHosts = new ArrayList<>();

    @Option(names = "--dns", paramLabel = "IP", description = "A name server for /etc/resolv.conf, instead of the host's.")
    List<String> dns = new ArrayList<>();

    @Option(names = "--dns-search", paramLabel = "DOMAIN", description = "A search domain, instead of the host's ('.': none).")
    List<String> dnsSearch = new ArrayList<>();

    @Option(names = "--dns-option", paramLabel = "OPT", description = "A resolver option (e.g. ndots:2), instead of the host's.")
    List<String> dnsOptions = new ArrayList<>();

    /** Where {@code -e K} and an env file's {@code K} lines take their values. */
    Map<String, String> callerEnv = System.getenv();

    @Option(names = {"-u", "--user"}, paramLabel = "U[:G]", description = "User and group, by name or number.")
    String user;

    @Option(names = {"-w", "--workdir"}, paramLabel = "D", description = "Working directory inside the container.")
    String workdir;

    @Option(names = {"-t", "--tty"}, description = "Give the container a terminal of its own, attached to this one.")
    boolean tty;

    @Option(names = {"-i", "--interactive"},
            description = "Keep stdin attached (without -t the container reads this stdin; with -t keystrokes go to its"
                    + " terminal, raw). Without -i its stdin is empty (/dev/null), as docker's.")
    boolean interactive;

    @Option(names = "--read-only", description = "Mount the root filesystem read-only.")
    boolean readOnly;

    @Option(names = "--cap-add", paramLabel = "CAP", description = "Add a capability (e.g. NET_ADMIN).")
    List<String> capAdd = new ArrayList<>();

    @Option(names = "--cap-drop", paramLabel = "CAP", description = "Drop a capability, or ALL.")
    List<String> capDrop = new ArrayList<>();

    @Option(names = "--security-opt", paramLabel = "OPT",
            description = "seccomp=FILE (a profile in the OCI/Docker JSON format), seccomp=unconfined, "
                    + "or no-new-privileges[=true|false] (on by default).")
    List<String> securityOpts = new ArrayList<>();

    @Option(names = "--userns", paramLabel = "MODE",
            description = "User namespace: host (default: none), auto[:size=N] (a host id range of its own from the"
                    + " subordinate ids of \"containers\", sized by the image, at least 1024), keep-id (rootless only)."
                    + " Rootless, host and auto both give the user's own mapping (0 to the user, 1..N to its"
                    + " subordinate ids).")
    String userns;

    @Option(names = "--ulimit", paramLabel = "TYPE=SOFT[:HARD]", description = "Set a resource limit (e.g. nofile=1024:2048).")
    List<String> ulimits = new ArrayList<>();

    @Option(names = "--uidmap", paramLabel = "CONTAINER:HOST:SIZE",
            description = "Run in a user namespace of its own with this uid mapping (repeatable), e.g. 0:100000:65536;"
                    + " without --gidmap, the gids are mapped the same.")
    List<String> uidmaps = new ArrayList<>();

    @Option(names = "--gidmap", paramLabel = "CONTAINER:HOST:SIZE",
            description = "The gid mapping of the user namespace (repeatable); without --uidmap, the uids are mapped"
                    + " the same.")
    List<String> gidmaps = new ArrayList<>();

    // networking (NetworkArgs)
    @Option(names = "--network", paramLabel = "MODE",
            description = "bridge (the default network), none (loopback only), host, container:ID, a network's name, or"
                    + " pasta / slirp4netns (the container's own namespace connected by that user-mode tool, no root"
                    + " needed; -p publishes through it, the host's loopback is the container's gateway address)."
                    + " Default: bridge as root; rootless: pasta if installed, else slirp4netns.")
    String network;

    @Option(names = {"-p", "--publish"}, paramLabel = "[IP:][HOSTPORT:]PORT[/PROTO]",
            description = "Publish a container port on the host (host port omitted or 0: a free one; see 'berth port').")
    List<String> publish = new ArrayList<>();

    @Option(names = {"-P", "--publish-all"}, description = "Publish every port the image exposes, on free host ports.")
    boolean publishAll;

    @Option(names = "--network-alias", paramLabel = "NAME", description = "Another name of the container on its user network.")
    List<String> networkAliases = new ArrayList<>();

    @Option(names = "--ip", paramLabel = "IP", description = "The container's address on its network.")
    String ip;

    @Option(names = "--mac-address", paramLabel = "MAC", description = "The MAC address of its interface.")
    String macAddress;

    /** The image's ExposedPorts, read in call() for -P. */
    java.util.Set<String> exposedPorts = java.util.Set.of();

    @Option(names = {"-m", "--memory"}, paramLabel = "SIZE", description = "Memory limit (e.g. 32m, 1g).")
    String memory;

    @Option(names = "--memory-swap", paramLabel = "SIZE", description = "Memory plus swap limit; -1 for unlimited swap.")
    String memorySwap;

    @Option(names = "--cpus", paramLabel = "N", description = "CPUs the container may use (e.g. 0.5).")
    Double cpus;

    @Option(names = {"-c", "--cpu-shares"}, paramLabel = "N", description = "Relative CPU weight (cgroup v1 shares, 2..262144).")
    Long cpuShares;

    @Option(names = "--cpuset-cpus", paramLabel = "LIST", description = "CPUs to run on (e.g. 0-1,3).")
    String cpusetCpus;

    @Option(names = "--pids-limit", paramLabel = "N", description = "Maximum number of processes; -1 for unlimited.")
    Long pidsLimit;

    @Option(names = "--device-read-bps", paramLabel = "DEV:RATE", description = "Read rate limit of a block device (e.g. /dev/sda:1mb).")
    List<String> deviceReadBps = new ArrayList<>();

    @Option(names = "--device-write-bps", paramLabel = "DEV:RATE", description = "Write rate limit of a block device.")
    List<String> deviceWriteBps = new ArrayList<>();

    @Option(names = "--device", paramLabel = "HOST[:CTR[:PERMS]]",
            description = "Give the container a host device (e.g. /dev/loop0:/dev/xvdc:rw); no other device opens.")
    List<String> devices = new ArrayList<>();

    @Option(names = "--device-cgroup-rule", paramLabel = "RULE",
            description = "Allow a device in the container's device cgroup (e.g. 'c 1:3 rwm').")
    List<String> deviceCgroupRules = new ArrayList<>();

    @Option(names = {"-v", "--volume"}, paramLabel = "SRC:CTR[:OPTS]",
            description = "Bind a host path (absolute SRC) or mount a named volume (created when missing), e.g."
                    + " /srv/data:/data:ro or cache:/cache.")
    List<String> volumes = new ArrayList<>();

    @Option(names = "--mount", paramLabel = "type=T,source=S,target=D[,...]",
            description = "Mount a bind, volume or tmpfs, in docker's long form.")
    List<String> mounts = new ArrayList<>();

    @Option(names = "--tmpfs", paramLabel = "CTR[:OPTS]", description = "Mount a tmpfs, e.g. /run:size=64m.")
    List<String> tmpfs = new ArrayList<>();

    @Option(names = "--rm", description = "Remove the container when it ends (always done without -d; named volumes stay).")
    boolean rm;

    @Option(names = {"-d", "--detach"},
            description = "Run in the background: print the id and exit; the container outlives this command, its"
                    + " output is captured to its log (berth logs).")
    boolean detach;

    @Option(names = "--log-max-size", paramLabel = "SIZE",
            description = "With -d: rotate the log at this size (e.g. 10m; default 20m).")
    String logMaxSize;

    @Option(names = "--log-max-files", paramLabel = "N", description = "With -d: log files kept (default 5).")
    Integer logMaxFiles;

    // supervision: restart policy and health check. Both are carried out by the berth process that started the
    // container, while it runs: `berth run` without -d. After `berth run -d` has exited, nothing restarts the
    // container or runs its checks; `berth ps` shows the health last recorded.
    @Option(names = "--restart", paramLabel = "POLICY",
            description = "Start it again when it ends: no (default), on-failure[:N], always, unless-stopped;"
                    + " done by this command while it runs (not after run -d has exited); Ctrl-C or SIGTERM to this"
                    + " command then stops the container for good.")
    String restart;

    @Option(names = "--health-cmd", paramLabel = "CMD",
            description = "Health check run inside the container: a shell command (/bin/sh -c CMD), or a JSON"
                    + " array [\"CMD\", ARG...] / [\"CMD-SHELL\", TEXT] / [\"NONE\"]; checked by this command while it"
                    + " runs (not after run -d has exited).")
    String healthCmd;

    @Option(names = "--health-interval", paramLabel = "D", description = "Time between checks (e.g. 30s, 1m30s; default 30s).")
    String healthInterval;

    @Option(names = "--health-timeout", paramLabel = "D", description = "Time a check may take (default 30s).")
    String healthTimeout;

    @Option(names = "--health-retries", paramLabel = "N", description = "Failures in a row that make it unhealthy (default 3).")
    String healthRetries;

    @Option(names = "--health-start-period", paramLabel = "D",
            description = "Time after the start when failures do not count (default 0s).")
    String healthStartPeriod;

    @Option(names = "--no-healthcheck", description = "No health check, not even the image's own HEALTHCHECK.")
    boolean noHealthcheck;

    @Option(names = "--health-on-failure", paramLabel = "ACTION",
            description = "When it becomes unhealthy: none (default: report only), kill, restart or stop (podman's).")
    String healthOnFailure;

    /** The image's own Healthcheck, read in call() when a --health-* timing is given without --health-cmd. */
    java.util.Optional<dev.berth.core.HealthCheck> imageHealthCheck = java.util.Optional.empty();



    @Option(names = "--pull", paramLabel = "POLICY", description = "Pull the image: missing (default), always or never.")
    String pull = "missing";

    @Option(names = "--platform", paramLabel = "OS/ARCH[/VARIANT]",
            description = "Platform of a multi-platform image to pull (default: this host's); a stored image of another platform is pulled again.")
    String platform;

    @Option(names = "--creds", paramLabel = "USER[:PASSWORD]",
            description = "Credentials for the image's registry when pulling; without :PASSWORD it is read from the terminal.")
    String creds;

    @Parameters(paramLabel = "IMAGE | CMD", arity = "0..*",
            description = "IMAGE [CMD [ARG...]], or with --rootfs: CMD [ARG...].")
    List<String> args = new ArrayList<>();

    @Override
    public Integer call() throws Exception {
        if (rootfs == null && !args.isEmpty()) {
            ImagePull.Policy policy;
            try {
                policy = ImagePull.policy(pull);
            } catch (IllegalArgumentException e) {
                throw usage(e.getMessage());
            }
            dev.berth.image.registry.PullOptions pullOptions;
            try {
                pullOptions = PullCommand.options(args.get(0), platform, List.of(), creds, List.of(), List.of());
            } catch (IllegalArgumentException e) {
                throw usage(e.getMessage());
            }
            try {
                args.set(0, ImagePull.resolve(args.get(0), policy, GlobalOptions.of(spec).storageRoot(), pullOptions, System.err));
            } catch (IllegalArgumentException e) {
                throw usage(e.getMessage());
            } catch (java.io.IOException | dev.berth.image.ImageException e) {
                String why = policy == ImagePull.Policy.MISSING
                        ? "image " + args.get(0) + " is not in the store and pulling it failed: " : "";
                spec.commandLine().getErr().println("berth: " + why + e.getMessage() + PullCommand.hint(e));
                return BerthCli.EXIT_RUNTIME;
            }
        }
        if ((publishAll || healthTimingsWithoutCommand()) && rootfs == null && !args.isEmpty()) {
            try (dev.berth.image.ImageStore store = dev.berth.image.ImageStore.open(GlobalOptions.of(spec).storageRoot())) {
                java.util.Optional<dev.berth.image.ContainerConfig> config = store.find(args.get(0))
                        .map(i -> i.config().config());
                exposedPorts = config.map(c -> c.exposedPorts()).orElse(java.util.Set.of());
                try {
                    imageHealthCheck = config.flatMap(c -> c.healthcheck()).flatMap(dev.berth.core.HealthCheck::fromImage);
                } catch (IllegalArgumentException e) {
                    throw usage("image " + args.get(0) + ": " + e.getMessage());
                }
            }
        }
        ContainerSpec containerSpec = toSpec();
        // with a terminal, SIGWINCH resizes it (and the kernel signals the container's foreground group)
        TerminalAttachment terminal = tty ? new TerminalAttachment(interactive) : null;
        SignalForwarder signals = tty ? new SignalForwarder("INT", "TERM", "HUP", "USR1", "USR2")
                : new SignalForwarder("INT", "TERM", "HUP", "USR1", "USR2", "WINCH");
        try (ContainerRuntime runtime = ContainerRuntime.builder().stateRoot(GlobalOptions.of(spec).stateRoot()).storageRoot(GlobalOptions.of(spec).storageRoot()).build()) {
            Container c;
            try {
                c = name == null ? runtime.start(containerSpec) : runtime.start(name, containerSpec);
            } catch (ContainerStartException e) {
                spec.commandLine().getErr().println("berth: " + e.getMessage());
                return startFailureCode(e);
            } catch (ContainerException e) {
                spec.commandLine().getErr().println("berth: " + e.getMessage());
                return BerthCli.EXIT_RUNTIME;
            }
            if (detach) {
                System.out.println(c.id()); // as docker run -d; closing the handle leaves the container running
                c.close();
                return 0;
            }
            signals.attach(c);
            if (!containerSpec.restart().equals(dev.berth.core.RestartPolicy.no())) {
                stopOnInterrupt(c);
            }
            ExitStatus status = terminal != null ? terminal.run(c) : c.onExit().join();
            c.close();
            return status.shellCode();
        }
    }

    /** {@code -d}: a container that outlives this command, its output captured to its log. */
    private void detached(ContainerSpec.Builder b) {
        if (tty) {
            throw usage("-t: a detached container has no terminal here to attach to (its output goes to its log)");
        }
        if (interactive) {
            throw usage("-i: a detached container has no stdin attached (it reads nothing)");
        }
        b.detached(true).autoRemove(rm);
        if (logMaxSize != null || logMaxFiles != null) {
            long size;
            try {
                size = logMaxSize == null ? LogConfig.DEFAULT.maxSize() : Units.size(logMaxSize);
            } catch (IllegalArgumentException e) {
                throw usage("--log-max-size: " + e.getMessage());
            }
            try {
                b.logging(LogConfig.of(size, logMaxFiles == null ? LogConfig.DEFAULT.maxFiles() : logMaxFiles));
            } catch (IllegalArgumentException e) {
                throw usage(e.getMessage().replace("logging.maxSize", "--log-max-size")
                        .replace("logging.maxFiles", "--log-max-files"));
            }
        }
    }

    /**
     * With a restart policy, Ctrl-C or SIGTERM to this command stops the container for good (as
     * {@code berth stop}: the stop signal, SIGKILL after 10 s), instead of being passed on: a target
     * killed by the passed-on signal would only be restarted, and this command would never end.
     */
    private static void stopOnInterrupt(Container c) {
        for (String name : new String[] {"INT", "TERM"}) {
            try {
                sun.misc.Signal.handle(new sun.misc.Signal(name), s -> {
                    Thread t = new Thread(() -> {
                        try {
                            c.stop(java.time.Duration.ofSeconds(10));
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                        }
                    }, "berth-stop");
                    t.setDaemon(true);
                    t.start();
                });
            } catch (IllegalArgumentException e) {
                // the JVM reserves it: leave it alone
            }
        }
    }

    private boolean healthTimingsWithoutCommand() {
        return healthCmd == null && !noHealthcheck && (healthInterval != null || healthTimeout != null
                || healthRetries != null || healthStartPeriod != null);
    }

    /** {@code --restart}, {@code --health-*}, {@code --no-healthcheck} and {@code --health-on-failure}, as docker and podman read them. */
    private void supervision(ContainerSpec.Builder b) {
        if (restart != null) {
            dev.berth.core.RestartPolicy policy;
            try {
                policy = dev.berth.core.RestartPolicy.parse(restart);
            } catch (IllegalArgumentException e) {
                throw usage("--" + e.getMessage());
            }
            if (rm && !policy.equals(dev.berth.core.RestartPolicy.no())) {
                throw usage("Conflicting options: --restart and --rm");
            }
            b.restart(policy);
        }
        if (healthOnFailure != null) {
            try {
                b.onUnhealthy(dev.berth.core.UnhealthyAction.parse(healthOnFailure));
            } catch (IllegalArgumentException e) {
                throw usage("--health-on-failure: unknown action \"" + healthOnFailure + "\" (none, kill, restart, stop)");
            }
        }
        boolean timings = healthInterval != null || healthTimeout != null || healthRetries != null
                || healthStartPeriod != null;
        if (noHealthcheck) {
            if (healthCmd != null || timings) {
                throw usage("Conflicting options: --no-healthcheck and --health-*");
            }
            b.noHealthCheck();
            return;
        }
        dev.berth.core.HealthCheck.Builder check;
        if (healthCmd != null) {
            check = healthCommand(healthCmd);
            if (check == null) { // ["NONE"]
                if (timings) {
                    throw usage("Conflicting options: --health-cmd [\"NONE\"] and --health-*");
                }
                b.noHealthCheck();
                return;
            }
        } else if (timings) {
            // docker's: the timings alone change the image's own check
            check = imageHealthCheck.map(dev.berth.core.HealthCheck::toBuilder).orElseThrow(() -> usage(
                    (healthInterval != null ? "--health-interval" : healthTimeout != null ? "--health-timeout"
                            : healthRetries != null ? "--health-retries" : "--health-start-period")
                            + ": there is no health check to apply it to (give --health-cmd; "
                            + (rootfs != null ? "a root directory has" : "the image has") + " no HEALTHCHECK)"));
        } else {
            return;
        }
        // as docker's: 0 (or absent) keeps the default (or the image's value)
        java.time.Duration interval = healthDuration("--health-interval", healthInterval);
        if (!interval.isZero()) {
            check.interval(interval);
        }
        java.time.Duration timeout = healthDuration("--health-timeout", healthTimeout);
        if (!timeout.isZero()) {
            check.timeout(timeout);
        }
        java.time.Duration startPeriod = healthDuration("--health-start-period", healthStartPeriod);
        if (!startPeriod.isZero()) {
            check.startPeriod(startPeriod);
        }
        if (healthRetries != null) {
            int retries;
            try {
                retries = Integer.parseInt(healthRetries.strip());
            } catch (NumberFormatException e) {
                throw usage("--health-retries: \"" + healthRetries + "\" is not a number");
            }
            if (retries < 0) {
                throw usage("--health-retries: cannot be negative, got " + retries);
            }
            if (retries > 0) {
                check.retries(retries);
            }
        }
        try {
            b.healthCheck(check.build());
        } catch (IllegalArgumentException e) {
            throw usage(e.getMessage().replace("healthCheck.interval", "--health-interval")
                    .replace("healthCheck.timeout", "--health-timeout").replace("healthCheck.command", "--health-cmd"));
        }
    }

    /** A {@code --health-*} duration: docker's spelling (30s, 1m30s, 500ms), 0 for the default, never negative. */
    private java.time.Duration healthDuration(String flag, String value) {
        if (value == null) {
            return java.time.Duration.ZERO;
        }
        java.time.Duration d;
        try {
            d = HumanTime.goDuration(value);
        } catch (IllegalArgumentException e) {
            throw usage(flag + ": " + e.getMessage());
        }
        if (d.isNegative()) {
            throw usage(flag + ": cannot be negative, got " + value);
        }
        if (!d.isZero() && d.toMillis() < 1) {
            throw usage(flag + ": must be at least 1ms, got " + value);
        }
        return d;
    }

    /**
     * {@code --health-cmd}: a shell command (docker's, {@code CMD-SHELL}), or a JSON array as podman
     * reads it: {@code ["CMD", argv...]}, {@code ["CMD-SHELL", text]}, {@code ["NONE"]} (null: no check)
     * or a plain argv.
     */
    private dev.berth.core.HealthCheck.Builder healthCommand(String value) {
        String v = value.strip();
        if (v.isEmpty()) {
            throw usage("--health-cmd: must not be empty (use --no-healthcheck to disable checks)");
        }
        if (!v.startsWith("[")) {
            return dev.berth.core.HealthCheck.builder().shell(value);
        }
        List<String> argv = new ArrayList<>();
        try {
            com.fasterxml.jackson.databind.JsonNode array = new com.fasterxml.jackson.databind.ObjectMapper().readTree(v);
            if (!array.isArray()) {
                throw new IllegalArgumentException("not an array");
            }
            for (com.fasterxml.jackson.databind.JsonNode e : array) {
                if (!e.isTextual()) {
                    throw new IllegalArgumentException("element " + e + " is not a string");
                }
                argv.add(e.asText());
            }
        } catch (com.fasterxml.jackson.core.JsonProcessingException | IllegalArgumentException e) {
            throw usage("--health-cmd: " + v + " is not a JSON array of strings ("
                    + (e instanceof com.fasterxml.jackson.core.JsonProcessingException j ? j.getOriginalMessage()
                    : e.getMessage()) + ")");
        }
        if (argv.isEmpty()) {
            throw usage("--health-cmd: [] has no command");
        }
        switch (argv.get(0)) {
            case "NONE" -> {
                if (argv.size() != 1) {
                    throw usage("--health-cmd: [\"NONE\"] takes nothing after NONE");
                }
                return null;
            }
            case "CMD-SHELL" -> {
                if (argv.size() != 2) {
                    throw usage("--health-cmd: [\"CMD-SHELL\", TEXT] takes one command text, got " + (argv.size() - 1));
                }
                return dev.berth.core.HealthCheck.builder().shell(argv.get(1));
            }
            case "CMD" -> argv.remove(0);
            default -> { } // a plain argv, as podman's
        }
        if (argv.isEmpty() || argv.get(0).isEmpty()) {
            throw usage("--health-cmd: [\"CMD\", ...] needs a command after CMD");
        }
        return dev.berth.core.HealthCheck.builder().command(argv.toArray(String[]::new));
    }

    /** Docker's convention: 127 for a command not found, 126 for one that cannot run, 125 otherwise. */
    static int startFailureCode(ContainerStartException e) {
        if (e.syscall().equals("exec")) {
            if (e.errno() == ENOENT) {
                return BerthCli.EXIT_NOT_FOUND;
            }
            if (e.errno() == EACCES || e.errno() == ENOEXEC) {
                return BerthCli.EXIT_NOT_EXECUTABLE;
            }
        }
        return BerthCli.EXIT_RUNTIME;
    }

    ContainerSpec toSpec() {
        ContainerSpec.Builder b = ContainerSpec.builder();
        supervision(b);
        if (detach) {
            detached(b); // its output goes to its log, its stdin is empty
        } else if (logMaxSize != null || logMaxFiles != null) {
            throw usage((logMaxSize != null ? "--log-max-size" : "--log-max-files")
                    + ": only with -d (an attached container's output is this command's)");
        } else if (tty) {
            TerminalSize size = TerminalAttachment.hostSize();
            b.tty(true).consoleSize(size.columns(), size.rows());
        } else {
            // docker's: without -i the container reads nothing of the caller's stdin
            b.stdin(interactive ? Stdio.inherit() : Stdio.discard()).stdout(Stdio.inherit()).stderr(Stdio.inherit());
        }
        if (rootfs != null) {
            if (args.isEmpty() && entrypoint == null) {
                throw usage("Missing required parameter: 'CMD' (with --rootfs)");
            }
            b.rootfs(rootfs).command(args);
        } else {
            if (args.isEmpty()) {
                throw usage("Missing required parameter: 'IMAGE' (or --rootfs DIR)");
            }
            b.image(args.get(0)).command(args.subList(1, args.size()));
        }
        if (entrypoint != null) {
            b.entrypoint(entrypoint.isEmpty() ? List.of() : List.of(entrypoint));
        }
        try {
            b.env(EnvFile.resolve(envFiles, env, callerEnv));
        } catch (IllegalArgumentException e) {
            throw usage(e.getMessage());
        }
        for (String h : addHosts) {
            ExtraHost host = extraHost(h);
            b.addHost(host.name(), host.address());
        }
        b.dns(dns).dnsSearch(dnsSearch).dnsOptions(dnsOptions);
        if (hostname != null) {
            b.hostname(hostname);
        }
        if (user != null) {
            b.user(user);
        }
        if (workdir != null) {
            b.workingDir(workdir);
        }
        b.readonlyRootfs(readOnly);
        for (String c : capDrop) {
            if (c.equalsIgnoreCase("ALL")) {
                b.capabilities(List.of());
            } else {
                b.dropCapabilities(parseCap("--cap-drop", c));
            }
        }
        for (String c : capAdd) {
            b.addCapabilities(parseCap("--cap-add", c));
        }
        for (String u : ulimits) {
            b = ulimit(b, u);
        }
        for (String o : securityOpts) {
            securityOpt(b, o);
        }
        if (userns != null && (!uidmaps.isEmpty() || !gidmaps.isEmpty())) {
            throw usage((uidmaps.isEmpty() ? "--gidmap" : "--uidmap") + ": not with --userns (each gives the container's"
                    + " user namespace)");
        }
        userNamespace(b);
        if (userns != null) {
            try {
                b.userNamespace(UsernsArgs.parse(userns));
            } catch (IllegalArgumentException e) {
                throw usage(e.getMessage());
            }
        }
        try {
            NetworkArgs.apply(b, network != null ? network : ContainerRuntime.defaultNetworkMode().toString(), publish, publishAll, exposedPorts, networkAliases, ip, macAddress);
        } catch (IllegalArgumentException | dev.berth.network.NetworkException e) {
            throw usage(e.getMessage());
        }
        for (String d : devices) {
            b.device(device(d));
        }
        mountArgs(b);
        try {
            b.resources(resources());
            return b.build();
        } catch (IllegalArgumentException e) {
            throw usage(e.getMessage());
        }
    }

    /** docker's {@code --device HOST[:CONTAINER[:PERMISSIONS]]}; the container path defaults to the host's. */
    private Device device(String value) {
        String[] p = value.split(":", -1);
        if (p.length > 3 || p[0].isEmpty()) {
            throw usage("--device: expected HOST[:CONTAINER[:PERMISSIONS]], got \"" + value + "\"");
        }
        String container = p.length > 1 && !p[1].isEmpty() ? p[1] : p[0];
        String perms = p.length > 2 ? p[2] : "rwm";
        try {
            return Device.fromHost(Path.of(p[0]), container, perms);
        } catch (IllegalArgumentException e) {
            throw usage("--device " + value + ": " + e.getMessage());
        }
    }

    /** {@code -v}, {@code --mount} and {@code --tmpfs}, in that order. */
    private void mountArgs(ContainerSpec.Builder b) {
        for (String v : volumes) {
            b.mount(mountArg("-v " + v, () -> MountArgs.volume(v)));
        }
        for (String m : mounts) {
            b.mount(mountArg("--mount " + m, () -> MountArgs.mount(m)));
        }
        for (String t : tmpfs) {
            b.mount(mountArg("--tmpfs " + t, () -> MountArgs.tmpfs(t)));
        }
    }

    private dev.berth.core.Mount mountArg(String option, java.util.function.Supplier<dev.berth.core.Mount> parse) {
        try {
            return parse.get();
        } catch (IllegalArgumentException e) {
            throw usage(option + ": " + e.getMessage());
        }
    }

    /** docker's {@code --add-host NAME:IP} (also {@code NAME=IP}, and an IPv6 address in brackets). */
    private ExtraHost extraHost(String value) {
        int at = value.indexOf('=') >= 0 ? value.indexOf('=') : value.indexOf(':');
        if (at <= 0 || at == value.length() - 1) {
            throw usage("--add-host: expected NAME:IP, got \"" + value + "\"");
        }
        String address = value.substring(at + 1);
        if (address.startsWith("[") && address.endsWith("]")) {
            address = address.substring(1, address.length() - 1);
        }
        return new ExtraHost(value.substring(0, at), address);
    }

    private picocli.CommandLine.ParameterException usage(String message) {
        return new picocli.CommandLine.ParameterException(spec.commandLine(), message);
    }

    /** The podman/docker resource flags as cgroup limits. */
    Resources resources() {
        Resources.Builder r = Resources.builder();
        try {
            if (memory != null) {
                r.memoryMax(Units.size(memory));
            }
            if (memorySwap != null) {
                r.memorySwap(memorySwap.trim().equals("-1") ? -1 : Units.size(memorySwap));
            }
        } catch (IllegalArgumentException e) {
            throw usage("--memory: " + e.getMessage());
        }
        if (cpus != null) {
            r.cpus(cpus);
        }
        if (cpuShares != null) {
            r.cpuShares(cpuShares);
        }
        if (cpusetCpus != null) {
            r.cpusetCpus(cpusetCpus);
        }
        if (pidsLimit != null) {
            r.pidsMax(pidsLimit);
        }
        for (String d : deviceReadBps) {
            Units.DeviceRate dr = deviceRate("--device-read-bps", d);
            r.deviceThrottle(DeviceThrottle.readBps(dr.major(), dr.minor(), dr.bytesPerSecond()));
        }
        for (String d : deviceWriteBps) {
            Units.DeviceRate dr = deviceRate("--device-write-bps", d);
            r.deviceThrottle(DeviceThrottle.writeBps(dr.major(), dr.minor(), dr.bytesPerSecond()));
        }
        for (String rule : deviceCgroupRules) {
            try {
                r.deviceRule(DeviceRule.parse(rule));
            } catch (IllegalArgumentException e) {
                throw usage("--device-cgroup-rule: " + e.getMessage());
            }
        }
        return r.build();
    }

    private Units.DeviceRate deviceRate(String option, String value) {
        try {
            return Units.deviceRate(value);
        } catch (IllegalArgumentException e) {
            throw usage(option + ": " + e.getMessage());
        }
    }

    private Capability parseCap(String option, String name) {
        try {
            return Capability.parse(name);
        } catch (IllegalArgumentException e) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(), option + ": " + e.getMessage());
        }
    }

    private ContainerSpec.Builder ulimit(ContainerSpec.Builder b, String value) {
        try {
            int eq = value.indexOf('=');
            if (eq <= 0) {
                throw new IllegalArgumentException("expected TYPE=SOFT[:HARD]");
            }
            Rlimit.Type type = Rlimit.Type.parse(value.substring(0, eq));
            String[] limits = value.substring(eq + 1).split(":", 2);
            long soft = parseLimit(limits[0]);
            long hard = limits.length == 2 ? parseLimit(limits[1]) : soft;
            return b.rlimit(type, soft, hard);
        } catch (IllegalArgumentException e) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(),
                    "--ulimit " + value + ": " + e.getMessage());
        }
    }

    private static long parseLimit(String s) {
        return s.equals("unlimited") || s.equals("-1") ? Rlimit.UNLIMITED : Long.parseLong(s);
    }

    /** Docker's and podman's {@code --security-opt} spellings: the seccomp profile and no_new_privs. */
    /** {@code --uidmap}/{@code --gidmap}, as podman: either alone maps both kinds of id the same. */
    private void userNamespace(ContainerSpec.Builder b) {
        if (uidmaps.isEmpty() && gidmaps.isEmpty()) {
            return;
        }
        List<dev.berth.core.IdMapping> uids = idMaps("--uidmap", uidmaps.isEmpty() ? gidmaps : uidmaps);
        List<dev.berth.core.IdMapping> gids = idMaps("--gidmap", gidmaps.isEmpty() ? uidmaps : gidmaps);
        try {
            b.userNamespace(dev.berth.core.UserNamespace.of(uids, gids));
        } catch (IllegalArgumentException e) {
            throw usage((e.getMessage().startsWith("uid map") ? "--uidmap: " : "--gidmap: ") + e.getMessage());
        }
    }

    private List<dev.berth.core.IdMapping> idMaps(String option, List<String> texts) {
        List<dev.berth.core.IdMapping> out = new ArrayList<>();
        for (String t : texts) {
            try {
                out.add(dev.berth.core.IdMapping.parse(t));
            } catch (IllegalArgumentException e) {
                throw usage(option + ": " + e.getMessage());
            }
        }
        return out;
    }

    private void securityOpt(ContainerSpec.Builder b, String opt) {
        int eq = opt.indexOf('=');
        String key = eq < 0 ? opt : opt.substring(0, eq);
        String value = eq < 0 ? null : opt.substring(eq + 1);
        switch (key) {
            case "seccomp" -> {
                if (value == null || value.isEmpty()) {
                    throw usage("--security-opt " + opt + ": expected seccomp=FILE or seccomp=unconfined");
                }
                try {
                    b.seccomp(value.equals("unconfined") ? Seccomp.unconfined() : Seccomp.profile(Path.of(value)));
                } catch (IllegalArgumentException | java.io.UncheckedIOException e) {
                    throw usage("--security-opt " + opt + ": " + e.getMessage());
                }
            }
            case "no-new-privileges" -> {
                if (value != null && !value.equals("true") && !value.equals("false")) {
                    throw usage("--security-opt " + opt + ": expected no-new-privileges[=true|false]");
                }
                b.noNewPrivileges(value == null || value.equals("true"));
            }
            default -> throw usage("--security-opt " + opt
                    + ": unknown option (expected seccomp=FILE, seccomp=unconfined or no-new-privileges)");
        }
    }
}
