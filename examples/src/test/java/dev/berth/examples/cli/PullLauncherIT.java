package dev.berth.examples.cli;

import static dev.berth.examples.cli.Launcher.sh;
import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.examples.cli.Launcher.Outcome;
import dev.berth.testing.LoopbackRegistry;
import dev.berth.testing.Preconditions;
import dev.berth.testing.RequiresRoot;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** {@code berth pull} and {@code berth run --pull} against a real registry on loopback (TLS, htpasswd). */
@RequiresRoot
class PullLauncherIT {
    private static final String ROOTFS = System.getProperty("berth.test.rootfs");

    @TempDir Path tmp;

    @RegisterExtension
    static final Launcher BERTH = new Launcher();

    private static Outcome berth(Map<String, String> env, String... args) throws IOException, InterruptedException {
        return BERTH.run(env, "", args);
    }

    @Test
    void pullThenRunAndPullOnRun() throws Exception {
        Preconditions.requireTool("umoci", "umoci");
        Preconditions.requireTool("skopeo", "skopeo");
        sh(tmp, "umoci", "init", "--layout", "L");
        sh(tmp, "umoci", "new", "--image", "L:t");
        sh(tmp, "umoci", "unpack", "--image", "L:t", "B");
        sh(tmp, "cp", "-a", ROOTFS + "/.", tmp.resolve("B/rootfs").toString());
        sh(tmp, "umoci", "repack", "--image", "L:t", "B");
        sh(tmp, "umoci", "config", "--image", "L:t", "--config.cmd", "/bin/probe", "--config.cmd", "hello");
        try (LoopbackRegistry registry = new LoopbackRegistry(tmp.resolve("registry"))) {
            registry.push(tmp, "oci:L:t", "cli/demo:1");
            String ref = registry.host() + "/cli/demo:1";
            String store = BERTH.newStorageRoot().toString();
            String certs = registry.certDir.toString();
            String creds = LoopbackRegistry.USER + ":" + LoopbackRegistry.PASSWORD;

            Outcome pulled = berth(Map.of(), "pull", "--root", store, "--cert-dir", certs, "--creds", creds, ref);
            assertThat(pulled.code()).as(pulled.err()).isZero();
            assertThat(pulled.out()).startsWith(ref + " sha256:").contains("(1 layers)");
            assertThat(pulled.err()).isEmpty(); // not a terminal: no progress bars
            Outcome ran = berth(Map.of(), "run", "--root", store, "--pull", "never", ref);
            assertThat(ran.code()).as(ran.err()).isZero();
            assertThat(ran.out()).contains("hello from a berth container");

            Outcome never = berth(Map.of(), "run", "--root", store, "--pull", "never", registry.host() + "/cli/other:1");
            assertThat(never.code()).isEqualTo(125);
            assertThat(never.err()).contains("--pull never").endsWith("\n").hasLineCount(1);
            Outcome badPolicy = berth(Map.of(), "run", "--root", store, "--pull", "sometimes", ref);
            assertThat(badPolicy.code()).isEqualTo(125);
            assertThat(badPolicy.err()).contains("--pull: expected missing, always or never");

            Outcome unknown = berth(Map.of(), "pull", "--root", store, "--cert-dir", certs, "--creds", creds,
                    registry.host() + "/cli/demo:nope");
            assertThat(unknown.code()).isEqualTo(1);
            assertThat(unknown.err()).contains("MANIFEST_UNKNOWN", registry.host() + "/cli/demo:nope").hasLineCount(1);
            Outcome denied = berth(Map.of(), "pull", "--root", store, "--cert-dir", certs, "--creds", "berth:wrong", ref);
            assertThat(denied.code()).isEqualTo(1);
            assertThat(denied.err()).contains("UNAUTHORIZED", "hint: --creds").doesNotContain("wrong").hasLineCount(1);
            Outcome badRef = berth(Map.of(), "pull", "--root", store, "Not/Valid");
            assertThat(badRef.code()).isEqualTo(125);

            // run pulls a missing image with the system's CA directory and REGISTRY_AUTH_FILE
            Path certsD = Path.of("/etc/containers/certs.d");
            boolean madeCertsD = !Files.exists(certsD);
            Path hostCerts = certsD.resolve(registry.host());
            Files.createDirectories(hostCerts);
            try {
                Files.copy(registry.dir.resolve("ca.crt"), hostCerts.resolve("ca.crt"));
                Path auth = tmp.resolve("auth.json");
                Files.writeString(auth, "{\"auths\":{\"" + registry.host() + "\":{\"auth\":\""
                        + Base64.getEncoder().encodeToString(creds.getBytes(StandardCharsets.UTF_8)) + "\"}}}");
                String store2 = BERTH.newStorageRoot().toString();
                Outcome pullOnRun = berth(Map.of("REGISTRY_AUTH_FILE", auth.toString()), "run", "--root", store2, ref);
                assertThat(pullOnRun.code()).as(pullOnRun.err()).isZero();
                assertThat(pullOnRun.out()).contains("hello from a berth container");

                // a short name through $CONTAINERS_REGISTRIES_CONF's one search registry: pulled on run,
                // then found locally under the same normalisation by --pull never
                Path conf = tmp.resolve("registries.conf");
                Files.writeString(conf, "unqualified-search-registries = [\"" + registry.host() + "\"]\n");
                String store3 = BERTH.newStorageRoot().toString();
                Map<String, String> env = Map.of("REGISTRY_AUTH_FILE", auth.toString(), "CONTAINERS_REGISTRIES_CONF",
                        conf.toString());
                Outcome shortName = berth(env, "run", "--root", store3, "cli/demo:1");
                assertThat(shortName.code()).as(shortName.err()).isZero();
                assertThat(shortName.out()).contains("hello from a berth container");
                Outcome local = berth(env, "run", "--root", store3, "--pull", "never", "cli/demo:1");
                assertThat(local.code()).as(local.err()).isZero();
                Files.writeString(conf, "unqualified-search-registries = [\"" + registry.host() + "\", \"docker.io\"]\n");
                Outcome ambiguous = berth(env, "pull", "--root", store3, "cli/demo:1");
                assertThat(ambiguous.code()).isNotZero();
                assertThat(ambiguous.err()).contains("ambiguous", conf.toString()).hasLineCount(1);
            } finally {
                Files.deleteIfExists(hostCerts.resolve("ca.crt"));
                Files.deleteIfExists(hostCerts);
                if (madeCertsD) {
                    Files.deleteIfExists(certsD);
                }
            }
        }
    }
}
