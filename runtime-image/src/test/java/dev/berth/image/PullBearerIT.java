package dev.berth.image;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.cloud.tools.jib.api.Containerizer;
import com.google.cloud.tools.jib.api.Jib;
import com.google.cloud.tools.jib.api.TarImage;
import com.google.cloud.tools.jib.api.buildplan.AbsoluteUnixPath;
import com.google.cloud.tools.jib.api.buildplan.ImageFormat;
import dev.berth.image.registry.Credentials;
import dev.berth.image.registry.PullOptions;
import dev.berth.image.registry.RegistryException;
import dev.berth.testing.LoopbackRegistry;
import dev.berth.testing.Preconditions;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The bearer-token flow against the real registry: docker-registry configured for token auth, a
 * token server in the test issuing ES256 JWTs after checking Basic credentials; skopeo pushes
 * through the same flow, Berth pulls through it.
 */
class PullBearerIT {
  @TempDir Path tmp;

  @Test
  void pullThroughTheTokenFlowOfARealRegistry() throws Exception {
    Preconditions.requireTool("skopeo", "skopeo");
    try (TokenServer tokens = new TokenServer(tmp.resolve("tokens"), "tokenuser", "tokenpw");
        LoopbackRegistry registry = new LoopbackRegistry(tmp.resolve("registry"),
            new LoopbackRegistry.TokenAuth(tokens.realm(), tokens.service, tokens.issuer, tokens.certificate))) {
      Path hello = Files.writeString(Files.createDirectories(tmp.resolve("app")).resolve("hello.txt"), "hello over bearer");
      Path tar = tmp.resolve("jib.tar");
      Jib.fromScratch()
          .addLayer(List.of(hello), AbsoluteUnixPath.get("/app"))
          .setFormat(ImageFormat.Docker)
          .containerize(Containerizer.to(TarImage.at(tar).named("berth/bearer:1"))
              .setBaseImageLayersCache(tmp.resolve("jib-cache"))
              .setApplicationLayersCache(tmp.resolve("jib-app-cache")));
      HostTools.run(tmp, "skopeo", "--insecure-policy", "copy", "-q", "--dest-cert-dir",
          registry.certDir.resolve(registry.host()).toString(), "--dest-creds", "tokenuser:tokenpw",
          "docker-archive:" + tar, "docker://" + registry.host() + "/berth/bearer:1");
      PullOptions options = PullOptions.builder()
          .authFiles(List.of())
          .certDirectories(List.of(registry.certDir))
          .initialBackoff(Duration.ofMillis(20))
          .build();
      String ref = registry.host() + "/berth/bearer:1";
      try (ImageStore store = ImageStore.open(tmp.resolve("store"))) {
        assertThatThrownBy(() -> store.pull(ref, options, ImportProgress.NONE))
            .isInstanceOfSatisfying(RegistryException.class, e -> assertThat(e.code()).contains("UNAUTHORIZED"))
            .hasMessageContaining("token endpoint");
        tokens.scopes.clear();
        tokens.failuresLeft.set(2); // the token endpoint fails twice, then answers: retried
        Image img = store.pull(ref, options.toBuilder().credentials(registry.host(), new Credentials("tokenuser", "tokenpw")).build(),
            ImportProgress.NONE);
        assertThat(tokens.scopes).contains("repository:berth/bearer:pull");
        try (PreparedImage p = store.prepare(img.name())) {
          assertThat(p.lowerDirs().get(0).resolve("app/hello.txt")).hasContent("hello over bearer");
        }
        tokens.failuresLeft.set(100); // a token endpoint that keeps failing fails the pull, naming it
        try (ImageStore other = ImageStore.open(tmp.resolve("store2"))) {
          assertThatThrownBy(() -> other.pull(ref, options.toBuilder().maxAttempts(2)
              .credentials(registry.host(), new Credentials("tokenuser", "tokenpw")).build(), ImportProgress.NONE))
              .isInstanceOf(RegistryException.class)
              .hasMessageContaining("token endpoint " + tokens.realm())
              .hasMessageContaining("503");
          assertThat(other.images()).isEmpty();
        }
      }
    }
  }
}
