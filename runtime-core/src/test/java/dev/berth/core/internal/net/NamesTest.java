package dev.berth.core.internal.net;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

/** What a container is called on its network, and what its name server is started with. */
class NamesTest {
    @Test
    void aContainerAnswersToItsNameItsIdAndItsAliasesEachOnce() {
        assertThat(ContainerNetwork.names("web", "c0ffee", List.of("api", "web", "api"))).containsExactly("web",
                "c0ffee", "api");
        assertThat(ContainerNetwork.names("c0ffee", "c0ffee", List.of())).containsExactly("c0ffee");
    }

    @Test
    void theNameServersClasspathHasItsCodeAndItsLibrariesAsFilesThatExist() throws Exception {
        String[] cp = ServerNameService.classpath().split(":");
        assertThat(cp).anyMatch(p -> p.contains("dnsjava")).anyMatch(p -> p.contains("jackson-databind"))
                .anyMatch(p -> p.contains("runtime-network")).anyMatch(p -> p.contains("slf4j-api"));
        assertThat(cp).allMatch(p -> java.nio.file.Files.exists(java.nio.file.Path.of(p)));
    }
}
