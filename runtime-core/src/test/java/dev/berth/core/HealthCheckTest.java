package dev.berth.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.image.Healthcheck;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

class HealthCheckTest {

    @Test
    void hasDockersDefaults() {
        HealthCheck h = HealthCheck.builder().command("true").build();
        assertThat(h.kind()).isEqualTo(HealthCheck.Kind.EXEC);
        assertThat(h.interval()).isEqualTo(Duration.ofSeconds(30));
        assertThat(h.timeout()).isEqualTo(Duration.ofSeconds(30));
        assertThat(h.retries()).isEqualTo(3);
        assertThat(h.startPeriod()).isZero();
        HealthCheck http = HealthCheck.builder().http(8080, "/health").build();
        assertThat(http.expectedStatus().contains(200)).isTrue();
        assertThat(http.expectedStatus().contains(399)).isTrue();
        assertThat(http.expectedStatus().contains(404)).isFalse();
    }

    @Test
    void theLastKindSetWins() {
        HealthCheck h = HealthCheck.builder().command("true").tcp(80).build();
        assertThat(h.kind()).isEqualTo(HealthCheck.Kind.TCP);
        assertThat(h.command()).isEmpty();
        assertThat(h.toBuilder().shell("test -f /x").build().command()).containsExactly("/bin/sh", "-c", "test -f /x");
    }

    @Test
    void invalidValuesAreRefusedNamingTheField() {
        assertThatThrownBy(() -> HealthCheck.builder().build()).hasMessageStartingWith("healthCheck: ");
        assertThatThrownBy(() -> HealthCheck.builder().command().build()).hasMessageStartingWith("healthCheck.command");
        assertThatThrownBy(() -> HealthCheck.builder().command("a\0b").build())
                .hasMessageStartingWith("healthCheck.command");
        assertThatThrownBy(() -> HealthCheck.builder().tcp(0).build()).hasMessageStartingWith("healthCheck.port");
        assertThatThrownBy(() -> HealthCheck.builder().tcp(70000).build()).hasMessageStartingWith("healthCheck.port");
        assertThatThrownBy(() -> HealthCheck.builder().http(80, "health").build())
                .hasMessageStartingWith("healthCheck.path");
        assertThatThrownBy(() -> HealthCheck.builder().http(80, "/a b\r\nX: y").build())
                .hasMessageStartingWith("healthCheck.path");
        assertThatThrownBy(() -> HealthCheck.builder().tcp(80).interval(Duration.ZERO).build())
                .hasMessageStartingWith("healthCheck.interval");
        assertThatThrownBy(() -> HealthCheck.builder().tcp(80).timeout(Duration.ofSeconds(-1)).build())
                .hasMessageStartingWith("healthCheck.timeout");
        assertThatThrownBy(() -> HealthCheck.builder().tcp(80).retries(0).build())
                .hasMessageStartingWith("healthCheck.retries");
        assertThatThrownBy(() -> HealthCheck.builder().tcp(80).startPeriod(Duration.ofMillis(-1)).build())
                .hasMessageStartingWith("healthCheck.startPeriod");
        assertThatThrownBy(() -> HealthCheck.builder().http(80, "/").expectedStatus(300, 200))
                .hasMessageStartingWith("healthCheck.expectedStatus");
    }

    @Test
    void mapsTheImagesHealthcheck() {
        Healthcheck cmd = new Healthcheck(List.of("CMD", "curl", "-f", "http://localhost/"), Duration.ofSeconds(5),
                Duration.ZERO, Duration.ofSeconds(2), 0);
        HealthCheck h = HealthCheck.fromImage(cmd).orElseThrow();
        assertThat(h.kind()).isEqualTo(HealthCheck.Kind.EXEC);
        assertThat(h.command()).containsExactly("curl", "-f", "http://localhost/");
        assertThat(h.interval()).isEqualTo(Duration.ofSeconds(5));
        assertThat(h.timeout()).isEqualTo(HealthCheck.DEFAULT_TIMEOUT); // zero: inherit the default
        assertThat(h.startPeriod()).isEqualTo(Duration.ofSeconds(2));
        assertThat(h.retries()).isEqualTo(3);
        HealthCheck shell = HealthCheck.fromImage(new Healthcheck(List.of("CMD-SHELL", "test -f /ready"), null, null,
                null, 7)).orElseThrow();
        assertThat(shell.kind()).isEqualTo(HealthCheck.Kind.SHELL);
        assertThat(shell.command()).containsExactly("/bin/sh", "-c", "test -f /ready");
        assertThat(shell.retries()).isEqualTo(7);
        assertThat(HealthCheck.fromImage(new Healthcheck(List.of("NONE"), null, null, null, 0))).isEmpty();
        assertThat(HealthCheck.fromImage(new Healthcheck(List.of(), null, null, null, 0))).isEmpty();
        assertThatThrownBy(() -> HealthCheck.fromImage(new Healthcheck(List.of("curl", "x"), null, null, null, 0)))
                .hasMessageStartingWith("healthCheck.test: \"curl\"");
        assertThatThrownBy(() -> HealthCheck.fromImage(new Healthcheck(List.of("CMD-SHELL"), null, null, null, 0)))
                .hasMessageStartingWith("healthCheck.test: ");
        assertThatThrownBy(() -> HealthCheck.fromImage(new Healthcheck(List.of("CMD"), null, null, null, 0)))
                .hasMessageStartingWith("healthCheck.command");
    }

    @Test
    void resultsKeepAtMost4KiBOfOutputAndHealthAtMostFiveResults() {
        Instant t = Instant.parse("2026-01-01T00:00:00Z");
        HealthResult r = new HealthResult(1, "é".repeat(3000), t, t);
        assertThat(r.output().getBytes(java.nio.charset.StandardCharsets.UTF_8)).hasSize(4096);
        HealthResult odd = new HealthResult(1, "x" + "é".repeat(3000), t, t);
        assertThat(odd.output().getBytes(java.nio.charset.StandardCharsets.UTF_8).length).isEqualTo(4095);
        List<HealthResult> seven = java.util.Collections.nCopies(7, new HealthResult(0, "ok", t, t));
        assertThat(new Health(HealthStatus.HEALTHY, 0, seven).log()).hasSize(5);
    }
}
