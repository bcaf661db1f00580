package dev.berth.core.internal.state;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.core.ContainerSpec;
import dev.berth.core.HealthCheck;
import dev.berth.core.RestartPolicy;
import dev.berth.core.UnhealthyAction;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The persisted spec keeps the restart policy, health check and unhealthy action. */
class SupervisionSpecDocumentTest {

    private static ContainerSpec roundTrip(ContainerSpec spec) throws Exception {
        return StateJson.read(StateJson.write(SpecDocumentTest.state(SpecDocument.of(spec)))).spec().toSpec();
    }

    @Test
    void everyKindOfCheckRoundTrips() throws Exception {
        for (HealthCheck check : new HealthCheck[] {
                HealthCheck.builder().command("test", "-f", "/tmp/ready").interval(Duration.ofMillis(1500)).build(),
                HealthCheck.builder().shell("wget -q -O- localhost || exit 1").retries(5)
                        .startPeriod(Duration.ofSeconds(20)).build(),
                HealthCheck.builder().tcp(5432).timeout(Duration.ofSeconds(2)).build(),
                HealthCheck.builder().http(8080, "/health?deep=1").expectedStatus(200, 204).build()}) {
            ContainerSpec spec = ContainerSpec.builder().image("busybox").restart(RestartPolicy.onFailure(4))
                    .healthCheck(check).onUnhealthy(UnhealthyAction.RESTART).build();
            ContainerSpec back = roundTrip(spec);
            assertThat(back.healthCheck()).contains(check);
            assertThat(back.restart()).isEqualTo(RestartPolicy.onFailure(4));
            assertThat(back.onUnhealthy()).isEqualTo(UnhealthyAction.RESTART);
        }
    }

    @Test
    void theDefaultsWriteNothingAndReadBackAsDefaults() throws Exception {
        ContainerSpec spec = ContainerSpec.builder().image("busybox").build();
        assertThat(SpecDocument.of(spec).supervision()).isNull();
        ContainerSpec back = roundTrip(spec);
        assertThat(back.restart()).isEqualTo(RestartPolicy.no());
        assertThat(back.healthCheck()).isEmpty();
        assertThat(back.onUnhealthy()).isEqualTo(UnhealthyAction.NONE);
        assertThat(roundTrip(spec.toBuilder().restart(RestartPolicy.unlessStopped()).build()).restart())
                .isEqualTo(RestartPolicy.unlessStopped());
    }

    @Test
    void anEditedFileIsRefusedNamingTheField() {
        SpecDocument d = SpecDocument.of(ContainerSpec.builder().image("busybox").build());
        SpecDocument bad = new SpecDocument(1, d.rootfs(), d.image(), d.entrypoint(), d.command(), d.env(),
                d.workingDir(), d.user(), d.hostname(), d.rlimits(), d.capabilities(), d.noNewPrivileges(),
                d.readonlyRootfs(), d.namespaces(), d.maskedPaths(), d.readonlyPaths(), d.stdin(), d.stdout(),
                d.stderr(), d.resources(), d.devices(), d.mounts(), d.tty(), d.consoleSize(), d.extraHosts(), d.dns(),
                d.dnsSearch(), d.dnsOptions(), d.seccomp(), new SpecDocument.SupervisionDoc("sometimes", null, null), null, null, null);
        assertThatThrownBy(bad::toSpec).hasMessageStartingWith("restart: unknown policy");
        SpecDocument badCheck = new SpecDocument(1, d.rootfs(), d.image(), d.entrypoint(), d.command(), d.env(),
                d.workingDir(), d.user(), d.hostname(), d.rlimits(), d.capabilities(), d.noNewPrivileges(),
                d.readonlyRootfs(), d.namespaces(), d.maskedPaths(), d.readonlyPaths(), d.stdin(), d.stdout(),
                d.stderr(), d.resources(), d.devices(), d.mounts(), d.tty(), d.consoleSize(), d.extraHosts(), d.dns(),
                d.dnsSearch(), d.dnsOptions(), d.seccomp(), new SpecDocument.SupervisionDoc(null,
                        new SpecDocument.HealthCheckDoc("TCP", null, 0, null, null, null, 1000, 1000, 3, 0), null), null, null,
                null);
        assertThatThrownBy(badCheck::toSpec).hasMessageStartingWith("healthCheck.port");
    }
}
