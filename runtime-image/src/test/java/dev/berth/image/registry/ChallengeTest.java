package dev.berth.image.registry;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import org.junit.jupiter.api.Test;

class ChallengeTest {
  @Test
  void bearerWithQuotedParameters() {
    Challenge c = Challenge.parse(
        "Bearer realm=\"https://auth.docker.io/token\",service=\"registry.docker.io\",scope=\"repository:library/busybox:pull\"")
        .orElseThrow();
    assertThat(c.scheme()).isEqualTo("bearer");
    assertThat(c.params()).isEqualTo(Map.of("realm", "https://auth.docker.io/token", "service", "registry.docker.io",
        "scope", "repository:library/busybox:pull"));
  }

  @Test
  void basicTokensEscapesAndSpaces() {
    assertThat(Challenge.parse("Basic realm=Registry").orElseThrow().param("realm")).contains("Registry");
    assertThat(Challenge.parse("basic  realm = \"a \\\"b\\\" c\" , charset=UTF-8").orElseThrow().params())
        .isEqualTo(Map.of("realm", "a \"b\" c", "charset", "UTF-8"));
  }

  @Test
  void malformedHeadersGiveNothing() {
    assertThat(Challenge.parse(null)).isEmpty();
    assertThat(Challenge.parse("")).isEmpty();
    assertThat(Challenge.parse("Bearer realm=\"unterminated")).isEmpty();
    assertThat(Challenge.parse("Bearer").orElseThrow().params()).isEmpty();
  }

  @Test
  void loopbackIsDecidedWithoutDns() {
    assertThat(RegistryClient.isLoopback("localhost")).isTrue();
    assertThat(RegistryClient.isLoopback("127.0.0.1")).isTrue();
    assertThat(RegistryClient.isLoopback("127.1.2.3")).isTrue();
    assertThat(RegistryClient.isLoopback("[::1]")).isTrue();
    assertThat(RegistryClient.isLoopback("10.0.0.1")).isFalse();
    assertThat(RegistryClient.isLoopback("localhost.evil.example")).isFalse();
    assertThat(RegistryClient.isLoopback("registry.example")).isFalse();
    assertThat(RegistryClient.hostOf("127.0.0.1:5000")).isEqualTo("127.0.0.1");
    assertThat(RegistryClient.hostOf("[::1]:5000")).isEqualTo("::1");
  }

  @Test
  void redactDropsTheQuery() {
    assertThat(RegistryClient.redact(java.net.URI.create("https://cdn.example/blob/x?X-Amz-Signature=secret")))
        .isEqualTo("https://cdn.example/blob/x");
  }

  @Test
  void credentialsNeverPrintTheirSecret() {
    assertThat(new Credentials("u", "hunter2").toString()).doesNotContain("hunter2");
  }
}
