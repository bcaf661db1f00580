package dev.berth.core.internal.net;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

/** What a container is called on its network, and aardvark-dns's line for it. */
class NamesTest {
    @Test
    void aContainerAnswersToItsNameItsIdAndItsAliasesEachOnce() {
        assertThat(ContainerNetwork.names("web", "c0ffee", List.of("api", "web", "api"))).containsExactly("web",
                "c0ffee", "api");
        assertThat(ContainerNetwork.names("c0ffee", "c0ffee", List.of())).containsExactly("c0ffee");
    }

    @Test
    void anEntryListsEachFamilyInItsColumnEvenWhenEmpty() {
        assertThat(AardvarkNameService.entry("id1", List.of("10.89.0.2"), List.of("web", "site")))
                .isEqualTo("id1 10.89.0.2  web,site");
        assertThat(AardvarkNameService.entry("id1", List.of("10.89.0.2", "fd00::2"), List.of("web")))
                .isEqualTo("id1 10.89.0.2 fd00::2 web");
    }
}
