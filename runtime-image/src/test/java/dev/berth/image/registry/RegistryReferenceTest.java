package dev.berth.image.registry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.image.Digest;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class RegistryReferenceTest {
  private static final String HEX = "a".repeat(64);

  @ParameterizedTest
  @CsvSource({
    "busybox,                              docker.io/library/busybox:latest",
    "busybox:1.36,                         docker.io/library/busybox:1.36",
    "library/busybox,                      docker.io/library/busybox:latest",
    "user/app,                             docker.io/user/app:latest",
    "docker.io/busybox,                    docker.io/library/busybox:latest",
    "index.docker.io/busybox,              docker.io/library/busybox:latest",
    "index.docker.io/user/app:v1,          docker.io/user/app:v1",
    "quay.io/team/app:1.4,                 quay.io/team/app:1.4",
    "registry.example/team/app:1.4,        registry.example/team/app:1.4",
    "localhost/app,                        localhost/app:latest",
    "localhost:5000/app,                   localhost:5000/app:latest",
    "127.0.0.1:5000/a/b/c:t,               127.0.0.1:5000/a/b/c:t",
    "Registry/app,                         Registry/app:latest",
    "registry:5000/app,                    registry:5000/app:latest",
    "a_b-c/e__f,                           docker.io/a_b-c/e__f:latest",
    "user/my-app_x.y,                      docker.io/user/my-app_x.y:latest",
  })
  void normalisesAsDockerDoes(String in, String out) {
    assertThat(RegistryReference.parse(in).toString()).isEqualTo(out);
  }

  @Test
  void digestAloneHasNoTag() {
    RegistryReference r = RegistryReference.parse("busybox@sha256:" + HEX);
    assertThat(r.tag()).isEmpty();
    assertThat(r.digest()).contains(Digest.sha256(HEX));
    assertThat(r.manifestReference()).isEqualTo("sha256:" + HEX);
    assertThat(r.toString()).isEqualTo("docker.io/library/busybox@sha256:" + HEX);
    assertThat(r.storeName().toString()).isEqualTo("docker.io/library/busybox:sha256-" + HEX);
  }

  @Test
  void tagAndDigestKeepBothAndTheDigestDecides() {
    RegistryReference r = RegistryReference.parse("localhost:5000/app:1.0@sha256:" + HEX);
    assertThat(r.registry()).isEqualTo("localhost:5000");
    assertThat(r.repository()).isEqualTo("app");
    assertThat(r.tag()).contains("1.0");
    assertThat(r.manifestReference()).isEqualTo("sha256:" + HEX);
    assertThat(r.storeName().toString()).isEqualTo("localhost:5000/app:1.0");
  }

  @Test
  void defaultRegistryIsConfigurableAndGetsNoLibraryPrefix() {
    RegistryReference r = RegistryReference.parse("busybox", "mirror.local:5000");
    assertThat(r.toString()).isEqualTo("mirror.local:5000/busybox:latest");
    assertThat(RegistryReference.parse("quay.io/x/y", "mirror.local").registry()).isEqualTo("quay.io");
  }

  @Test
  void apiHostAndFamiliarName() {
    RegistryReference hub = RegistryReference.parse("busybox");
    assertThat(hub.apiHost()).isEqualTo("registry-1.docker.io");
    assertThat(hub.familiarName()).isEqualTo("busybox:latest");
    assertThat(RegistryReference.parse("user/app:v1").familiarName()).isEqualTo("user/app:v1");
    assertThat(RegistryReference.parse("127.0.0.1:5000/app").apiHost()).isEqualTo("127.0.0.1:5000");
    assertThat(RegistryReference.parse("127.0.0.1:5000/app").familiarName()).isEqualTo("127.0.0.1:5000/app:latest");
  }

  @Test
  void withTagAndWithDigest() {
    RegistryReference r = RegistryReference.parse("app:1").withDigest(Digest.sha256(HEX));
    assertThat(r.toString()).isEqualTo("docker.io/library/app:1@sha256:" + HEX);
    assertThat(r.withTag("2").toString()).isEqualTo("docker.io/library/app:2");
  }

  @ParameterizedTest
  @ValueSource(strings = {
    "", "UPPER", "user/UPPER", "docker.io/User/app", "app:", "app:-bad", 
    "app@sha256:short", "app@md5:" + "a", "a//b", "/app", "app/", "-app", "app-", "a..b", "a/b:tag:extra@",
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "ex ample/app", "host:port/app",
    "quay.io/", "app@", ":tag", "a_b.c-d/app",
  })
  void refusesMalformedReferencesNamingThem(String in) {
    assertThatThrownBy(() -> RegistryReference.parse(in))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("invalid image reference `" + in + "`");
  }

  @Test
  void tagOver128CharactersRefused() {
    assertThatThrownBy(() -> RegistryReference.parse("app:" + "t".repeat(129))).hasMessageContaining("invalid tag");
    assertThat(RegistryReference.parse("app:" + "t".repeat(128)).tag()).contains("t".repeat(128));
  }

  @Test
  void tooLongNameRefused() {
    String longName = "a/".repeat(130) + "b";
    assertThatThrownBy(() -> RegistryReference.parse("quay.io/" + longName)).hasMessageContaining("255");
  }

  @Test
  void factoryValidatesComponents() {
    assertThatThrownBy(() -> new RegistryReference("bad host", "x", Optional.empty(), Optional.empty()))
        .hasMessageContaining("invalid registry");
    assertThat(new RegistryReference("quay.io", "x", Optional.empty(), Optional.empty()).tag()).contains("latest");
  }
}
