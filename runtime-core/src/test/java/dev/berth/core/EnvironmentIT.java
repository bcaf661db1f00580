package dev.berth.core;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.cgroups.CgroupMode;
import dev.berth.cgroups.Resources;
import dev.berth.core.internal.etc.IpLiteral;
import dev.berth.core.testing.ContainerTestSupport;
import dev.berth.core.testing.HostCommand;
import dev.berth.core.testing.TestRootfs;
import dev.berth.testing.Preconditions;
import dev.berth.testing.RequiresCgroups;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * What a container sees of its environment: its own cgroup at /sys/fs/cgroup, read-only, and
 * /etc/hosts, /etc/hostname and /etc/resolv.conf generated for it. After every test nothing of the
 * container is mounted on the host.
 */
@RequiresCgroups
class EnvironmentIT extends ContainerTestSupport {
    private static final long MIB = 1024 * 1024;
    private static boolean v2;
    private List<String> hostMountsBefore;

    @BeforeAll
    static void detect() {
        if (Preconditions.notRoot().isPresent()) {
            return; // the rootless re-run (EnvironmentRootlessIT): no cgroup driver without a delegation; its cgroup tests are its own
        }
        Preconditions.require(runtime.cgroupDriver().isPresent(), "the runtime found no cgroup driver on a host with cgroups");
        v2 = runtime.cgroupDriver().orElseThrow().mode() == CgroupMode.UNIFIED;
    }

    /** The host's mount points where a container's mounts could land if one escaped its namespace. */
    private static List<String> hostMounts() throws IOException {
        List<String> watched = List.of(stateRoot.toString(), tmp.toString(), TestRootfs.path().toString(),
                TestRootfs.jdk().toString(), "/sys/fs/cgroup", "/etc");
        return Files.readAllLines(Path.of("/proc/self/mountinfo")).stream()
                .map(l -> l.split(" ")[4] + " " + l.split(" ")[3])
                .filter(m -> watched.stream().anyMatch(w -> m.equals(w) || m.startsWith(w + "/") || m.startsWith(w + " ")))
                .sorted().toList();
    }

    @BeforeEach
    void recordHostMounts() throws IOException {
        hostMountsBefore = hostMounts();
    }

    @AfterEach
    void nothingOfTheContainerIsMountedOnTheHost() throws IOException {
        assertThat(hostMounts()).isEqualTo(hostMountsBefore);
        try (Stream<Path> s = Files.list(stateRoot)) {
            assertThat(s.toList()).as("state directories (and their generated files) left").isEmpty();
        }
    }

    private static String probeOut(ContainerSpec.Builder spec) throws Exception {
        Result r = run(spec);
        assertThat(r.status()).as(r.stdout()).isEqualTo(ExitStatus.exited(0));
        return r.stdout();
    }

    @Test
    void theContainerReadsItsOwnLimitsReadOnlyAndNothingAboveItsCgroup() throws Exception {
        Resources limits = Resources.builder().memoryMax(64 * MIB).cpus(0.5).pidsMax(100).build();
        String memory = v2 ? "/sys/fs/cgroup/memory.max" : "/sys/fs/cgroup/memory/memory.limit_in_bytes";
        String cpu = v2 ? "/sys/fs/cgroup/cpu.max" : "/sys/fs/cgroup/cpu/cpu.cfs_quota_us";
        String pids = v2 ? "/sys/fs/cgroup/pids.max" : "/sys/fs/cgroup/pids/pids.max";
        String procs = v2 ? "/sys/fs/cgroup/cgroup.procs" : "/sys/fs/cgroup/memory/cgroup.procs";
        String escape = v2 ? "/sys/fs/cgroup/escape" : "/sys/fs/cgroup/memory/escape";
        String out = probeOut(probe("echo", "[ls]", "--", "ls", "/sys/fs/cgroup", "--", "echo", "[limits]", "--",
                "cat", memory, "--", "cat", cpu, "--", "cat", pids, "--", "echo", "[procs]", "--", "cat", procs, "--",
                "echo", "[writes]", "--", "overwrite", memory, "999999999", "--", "mkdir", escape, "--",
                "echo", "[mounts]", "--", "cat", "/proc/self/mountinfo").resources(limits));
        String[] part = out.split("\\[(ls|limits|procs|writes|mounts)]\n");
        List<String> listing = part[1].lines().toList();
        if (v2) {
            assertThat(listing).contains("memory.max", "cpu.max", "pids.max", "cgroup.procs")
                    .noneMatch(e -> !e.contains(".")); // files only: no cgroup of anyone else below it
            assertThat(part[2].lines()).containsExactly("67108864", "50000 100000", "100");
        } else {
            // the hierarchies it joined: CPU, cpuset and memory together (a JDK reads v1 limits only then),
            // pids for its limit, and its v2 directory; not devices, freezer, blkio or name=systemd
            assertThat(listing).containsExactly("cpu", "cpuacct", "cpuset", "memory", "pids", "unified");
            assertThat(part[2].lines()).containsExactly("67108864", "50000", "100");
        }
        assertThat(part[3].lines()).as("only the container's own processes").containsExactly("1", "2");
        assertThat(part[4].lines()).containsExactly("open " + memory + ": Read-only file system",
                "mkdir " + escape + ": Read-only file system");
        List<String[]> cgroupMounts = part[5].lines().map(l -> l.split(" "))
                .filter(f -> f[4].startsWith("/sys/fs/cgroup")).toList();
        assertThat(cgroupMounts).isNotEmpty().allSatisfy(f -> {
            assertThat(f[5].split(",")).as(String.join(" ", f)).contains("ro", "nosuid", "nodev", "noexec");
            if (!f[4].equals("/sys/fs/cgroup") || v2) {
                assertThat(f[3]).as("rooted at the container's own cgroup: " + String.join(" ", f)).isEqualTo("/");
            }
        });
    }

    @Test
    void withoutLimitsNoHierarchyOfTheEmbeddingJvmsCgroupIsShown() throws Exception {
        String out = probeOut(probe("ls", "/sys/fs/cgroup", "--", "echo", "[v2]", "--", "ls",
                v2 ? "/sys/fs/cgroup" : "/sys/fs/cgroup/unified"));
        String[] p = out.split("\\[v2]\n");
        if (!v2) {
            assertThat(p[0].lines()).containsExactly("pids", "unified"); // the default pids limit's hierarchy, and v2
        }
        // the container's own v2 directory: files only, no sibling or child cgroup of the runtime
        assertThat(p[1].lines()).isNotEmpty().allMatch(e -> e.contains("."));
    }

    @Test
    void etcFilesAreGeneratedAndTheContainersOwnNameResolves() throws Exception {
        String out = probeOut(probe("cat", "/etc/hostname", "--", "hosts", "worker-1", "--", "hosts", "db", "--",
                "hosts", "localhost", "--", "echo", "[resolv]", "--", "cat", "/etc/resolv.conf")
                .hostname("worker-1").addHost("db", "10.0.0.5").addHost("db", "fd00::5"));
        String[] p = out.split("\\[resolv]\n");
        assertThat(p[0].lines()).containsExactly("worker-1", "127.0.0.1 ::1", "10.0.0.5 fd00::5", "127.0.0.1 ::1");
        List<String> servers = p[1].lines().filter(l -> l.startsWith("nameserver ")).map(l -> l.substring(11)).toList();
        assertThat(servers).isNotEmpty().noneMatch(IpLiteral::isLoopback); // its own network namespace
        List<String> hostServers = Files.readAllLines(Path.of("/etc/resolv.conf")).stream()
                .filter(l -> l.startsWith("nameserver ")).map(l -> l.split("\\s+")[1]).filter(IpLiteral::isValid)
                .filter(s -> !IpLiteral.isLoopback(s)).toList();
        if (!hostServers.isEmpty()) {
            assertThat(servers).isEqualTo(hostServers);
        }
        String dns = probeOut(probe("cat", "/etc/resolv.conf").dns("192.0.2.53").dnsSearch("corp.example")
                .dnsOptions("ndots:3", "timeout:1"));
        assertThat(dns.lines().filter(l -> !l.startsWith("#") && !l.isBlank()
                && (l.startsWith("nameserver") || l.startsWith("search") || l.startsWith("options") || l.startsWith("domain"))))
                .containsExactly("nameserver 192.0.2.53", "search corp.example", "options ndots:3 timeout:1");
    }

    @Test
    void onTheHostsNetworkTheHostsFilesServe() throws Exception {
        String out = probeOut(probe("cat", "/etc/resolv.conf", "--", "echo", "[hosts]", "--", "cat", "/etc/hosts", "--",
                "hosts", "own-uts").shareNamespace(Namespace.NETWORK).hostname("own-uts"));
        String[] p = out.split("\\[hosts]\n");
        assertThat(p[0]).isEqualTo(Files.readString(Path.of("/etc/resolv.conf"), java.nio.charset.StandardCharsets.ISO_8859_1));
        assertThat(p[1]).startsWith(Files.readString(Path.of("/etc/hosts"), java.nio.charset.StandardCharsets.ISO_8859_1)
                .stripTrailing());
        assertThat(p[1].lines()).last().isEqualTo("127.0.0.1"); // what `hosts own-uts` found
    }

    @Test
    void writesToTheGeneratedFilesStayInTheContainerAndReachNoRoot() throws Exception {
        String out = probeOut(probe("write", "/etc/hosts", "10.9.9.9 changed\n", "--", "hosts", "changed", "--",
                "write", "/etc/resolv.conf", "nameserver 10.9.9.9\n", "--", "cat", "/etc/resolv.conf"));
        assertThat(out).isEqualTo("10.9.9.9\nnameserver 10.9.9.9\n");
        // the root directory keeps its empty mount points
        for (String f : List.of("hosts", "hostname", "resolv.conf")) {
            assertThat(TestRootfs.path().resolve("etc").resolve(f)).isEmptyFile();
        }
        // and the next container gets fresh ones
        assertThat(run(probe("hosts", "changed")).stdout()).isEqualTo("changed: not in /etc/hosts\n");
    }

    /** A writable root directory without the files gets empty mount points for them, as runc makes them: never their content. */
    @Test
    void aRootDirectoryWithoutTheFilesGetsEmptyMountPointsForThem() throws Exception {
        Path copy = Files.createDirectories(tmp.resolve("bare-root"));
        HostCommand.run("cp", "-a", TestRootfs.path() + "/.", copy.toString());
        HostCommand.run("rm", "-rf", copy.resolve("etc").toString());
        Files.createDirectories(copy.resolve("etc"));
        Files.copy(TestRootfs.path().resolve("etc/passwd"), copy.resolve("etc/passwd"));
        String out = probeOut(probe("cat", "/etc/hostname", "--", "hosts", "bare").rootfs(copy).hostname("bare")
                .readonlyRootfs(true));
        assertThat(out).isEqualTo("bare\n127.0.0.1 ::1\n");
        for (String f : List.of("hosts", "hostname", "resolv.conf")) {
            assertThat(copy.resolve("etc").resolve(f)).isEmptyFile();
        }
    }

    /**
     * A root directory on a read-only file system (the VM's 9p share is one): no mount point can be
     * made there, so a file whose mount point is missing is left out, and the container still starts.
     */
    @Test
    void aRootOnAReadOnlyFileSystemStartsWithTheFilesItHasMountPointsFor() throws Exception {
        Path copy = Files.createDirectories(tmp.resolve("ro-root"));
        HostCommand.run("cp", "-a", TestRootfs.path() + "/.", copy.toString());
        Files.deleteIfExists(copy.resolve("etc/hosts"));
        Files.deleteIfExists(copy.resolve("etc/resolv.conf"));
        Files.write(copy.resolve("etc/hostname"), new byte[0]);
        HostCommand.run("mount", "--bind", copy.toString(), copy.toString());
        try {
            HostCommand.run("mount", "-o", "remount,bind,ro", copy.toString());
            String out = run(probe("cat", "/etc/hostname", "--", "stat", "/etc/hosts", "--", "stat", "/etc/resolv.conf")
                    .rootfs(copy).hostname("read-only")).stdout();
            assertThat(out.lines()).containsExactly("read-only", "/etc/hosts: No such file or directory",
                    "/etc/resolv.conf: No such file or directory");
        } finally {
            HostCommand.run("umount", copy.toString());
        }
        assertThat(copy.resolve("etc/hosts")).doesNotExist();
    }

    /** Java's InetAddress.getLocalHost() on the host's network: with a host name of its own, and with the host's. */
    @Test
    void aJvmOnTheHostsNetworkResolvesItsOwnNameAndTheHosts() throws Exception {
        ContainerSpec.Builder jvm = ContainerSpec.builder().rootfs(TestRootfs.jdk()).readonlyRootfs(true)
                .command(TestRootfs.jdkJava(), "-XX:-UsePerfData", "-XX:TieredStopAtLevel=1", "-cp", "/opt/berth", "JvmInside")
                .shareNamespace(Namespace.NETWORK).stdout(Stdio.pipe());
        assertThat(probeOut(jvm.hostname("own-uts")).lines()).contains("localHost=own-uts/127.0.0.1");
        // with the host's name, as on the host (the VM's kernel has no host name its files resolve)
        String host;
        try {
            host = "localHost=" + java.net.InetAddress.getLocalHost();
        } catch (java.net.UnknownHostException e) {
            host = "localHost failed: ";
        }
        String expected = host;
        assertThat(probeOut(jvm.hostname(null).shareNamespace(Namespace.UTS)).lines()).anyMatch(l -> l.startsWith(expected));
    }
}
