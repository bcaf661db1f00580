package dev.berth.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class RestartPolicyTest {

    @Test
    void parsesDockersSpellings() {
        assertThat(RestartPolicy.parse("no")).isEqualTo(RestartPolicy.no());
        assertThat(RestartPolicy.parse("always")).isEqualTo(RestartPolicy.always());
        assertThat(RestartPolicy.parse("unless-stopped")).isEqualTo(RestartPolicy.unlessStopped());
        assertThat(RestartPolicy.parse("on-failure")).isEqualTo(RestartPolicy.onFailure());
        RestartPolicy p = RestartPolicy.parse("on-failure:5");
        assertThat(p.kind()).isEqualTo(RestartPolicy.Kind.ON_FAILURE);
        assertThat(p.maxRetries()).isEqualTo(5);
        assertThat(RestartPolicy.parse(" Always ")).isEqualTo(RestartPolicy.always());
    }

    @Test
    void toStringReadsBack() {
        for (String s : new String[] {"no", "always", "unless-stopped", "on-failure", "on-failure:3"}) {
            assertThat(RestartPolicy.parse(s).toString()).isEqualTo(s);
            assertThat(RestartPolicy.parse(RestartPolicy.parse(s).toString())).isEqualTo(RestartPolicy.parse(s));
        }
    }

    @Test
    void badInputIsRefusedNamingTheField() {
        assertThatThrownBy(() -> RestartPolicy.parse("sometimes")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("restart: unknown policy \"sometimes\"");
        assertThatThrownBy(() -> RestartPolicy.parse("on-failure:-1")).hasMessageStartingWith("restart: ")
                .hasMessageContaining("max-retries");
        assertThatThrownBy(() -> RestartPolicy.parse("on-failure:x")).hasMessageStartingWith("restart: ");
        assertThatThrownBy(() -> RestartPolicy.parse("on-failure:")).hasMessageStartingWith("restart: ");
        assertThatThrownBy(() -> RestartPolicy.parse("on-failure:99999999999")).hasMessageStartingWith("restart: ");
        assertThatThrownBy(() -> RestartPolicy.parse("always:3")).hasMessageStartingWith("restart: ")
                .hasMessageContaining("only on-failure");
        assertThatThrownBy(() -> RestartPolicy.parse("")).hasMessageStartingWith("restart: ");
        assertThatThrownBy(() -> RestartPolicy.parse(null)).hasMessageStartingWith("restart: ");
        assertThatThrownBy(() -> RestartPolicy.parse("no\0")).hasMessageStartingWith("restart: ");
        assertThatThrownBy(() -> RestartPolicy.onFailure(-2)).hasMessageStartingWith("restart: ");
    }

    @Test
    void decidesWhichEndsAreRestarted() {
        ExitStatus ok = ExitStatus.exited(0);
        ExitStatus failed = ExitStatus.exited(3);
        ExitStatus killed = ExitStatus.killed(9);
        assertThat(RestartPolicy.no().restartsAfter(failed, 0)).isFalse();
        assertThat(RestartPolicy.always().restartsAfter(ok, 100)).isTrue();
        assertThat(RestartPolicy.unlessStopped().restartsAfter(ok, 0)).isTrue();
        RestartPolicy twice = RestartPolicy.onFailure(2);
        assertThat(twice.restartsAfter(ok, 0)).isFalse();
        assertThat(twice.restartsAfter(failed, 0)).isTrue();
        assertThat(twice.restartsAfter(killed, 1)).isTrue();
        assertThat(twice.restartsAfter(failed, 2)).isFalse();
        assertThat(RestartPolicy.onFailure().restartsAfter(failed, 1_000_000)).isTrue();
    }
}
