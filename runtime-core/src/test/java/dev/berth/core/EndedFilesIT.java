package dev.berth.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.berth.core.testing.OciLayouts;
import dev.berth.core.testing.TempRootsSupport;
import dev.berth.image.ImportProgress;
import dev.berth.testing.RequiresRoot;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.junit.jupiter.api.Test;

/**
 * docker's {@code cp} of an exited container, from a runtime other than its starter: the container's
 * writable layer over the image it was made from, mounted again for the copy.
 */
@RequiresRoot
class EndedFilesIT extends TempRootsSupport {
    private static final ObjectMapper JSON = new ObjectMapper();

    EndedFilesIT() {
        super("ef", Duration.ZERO);
    }

    private Path layout(String name, List<String> applets) throws IOException {
        ObjectNode config = JSON.createObjectNode();
        config.putArray("Cmd").add("/bin/sh");
        config.putArray("Env").add("BUILD=" + name);
        return OciLayouts.busybox(tmp.resolve("layout-" + name), name, config, applets);
    }

    private static TarArchiveEntry first(InputStream tar) throws IOException {
        try (TarArchiveInputStream in = new TarArchiveInputStream(tar)) {
            TarArchiveEntry e = in.getNextEntry();
            assertThat(e).isNotNull();
            return e;
        }
    }

    /** The image's layers as the ended container saw them: the pinned image, though its name now names nothing. */
    @Test
    void anEndedContainerOfAnotherRuntimeIsCopiedFromAndIntoThroughItsWritableLayer() throws Exception {
        String id = id("ended");
        String image = "it/ended-files:1";
        ContainerRuntime first = runtime();
        first.images().importImage(layout("one", List.of("sh", "mkdir", "cat")), Optional.of(image), ImportProgress.NONE);
        Container c = first.start(id, ContainerSpec.builder().image(image)
                .command("/bin/sh", "-c", "echo made > /made; mkdir -p /d/e; echo deep > /d/e/f").detached(true).build());
        assertThat(c.onExit().get(30, TimeUnit.SECONDS)).isEqualTo(ExitStatus.exited(0));
        first.close();

        ContainerRuntime second = runtime();
        // the name moves to another build, which is then removed: only the container's pin keeps its image
        second.images().importImage(layout("two", List.of("sh")), Optional.of(image), ImportProgress.NONE);
        assertThat(second.images().remove(image)).isTrue();
        assertThat(second.list()).filteredOn(i -> i.id().equals(id)).singleElement()
                .satisfies(i -> assertThat(i.status()).isEqualTo(ContainerStatus.EXITED));

        ContainerFiles files = second.files(id);
        Path out = tmp.resolve("out");
        files.copyOut("/made", out);
        assertThat(out).hasContent("made");
        files.copyOut("/d", tmp.resolve("d"));
        assertThat(tmp.resolve("d/e/f")).hasContent("deep");
        // from the image the container was made from: "two" has no cat
        TarArchiveEntry cat = first(files.copyFrom("/bin/cat"));
        assertThat(cat.isSymbolicLink()).isTrue();
        assertThat(cat.getName()).isEqualTo("cat");
        Path in = Files.writeString(tmp.resolve("in.txt"), "copied in\n");
        files.copyIn(in, "/d/in.txt");
        Path upper = storageRoot.resolve("containers").resolve(id).resolve("upper");
        assertThat(upper.resolve("d/in.txt")).hasContent("copied in");
        // a symlink in the layer that points out of the container resolves inside it, as for a running one
        Files.createSymbolicLink(upper.resolve("escape"), Path.of("/../../../../etc"));
        assertThatThrownBy(() -> files.copyOut("/escape/shadow", tmp.resolve("shadow")))
                .isInstanceOf(IOException.class);
        assertThat(tmp.resolve("shadow")).doesNotExist();

        // two copies at once in one process: the second waits for the first's tree, then reads its own
        java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(2);
        try {
            List<java.util.concurrent.Future<Object>> both = List.of(
                    pool.submit(() -> { files.copyOut("/d", tmp.resolve("p1")); return null; }),
                    pool.submit(() -> { files.copyOut("/d", tmp.resolve("p2")); return null; }));
            for (java.util.concurrent.Future<Object> f : both) {
                f.get(60, TimeUnit.SECONDS);
            }
        } finally {
            pool.shutdownNow();
        }
        assertThat(tmp.resolve("p1/e/f")).hasContent("deep");
        assertThat(tmp.resolve("p2/in.txt")).hasContent("copied in");

        // nothing held after the copies: the id's lock is free (a removal takes it), the holders are gone
        second.remove(id, false);
        assertThat(stateRoot.resolve(id)).doesNotExist();
        assertThat(storageRoot.resolve("containers").resolve(id)).doesNotExist();
        assertThatThrownBy(() -> second.files(id)).isInstanceOf(ContainerException.class)
                .hasMessageContaining("no such container");
    }

    /** While the runtime that started it still holds it, another's copy fails at once, saying why, and changes nothing. */
    @Test
    void aCopyOfAnEndedContainerItsStarterStillHoldsFailsInOneLine() throws Exception {
        String id = id("held");
        ContainerRuntime first = runtime();
        // attached: its runtime holds the id until it closes the container, ended or not
        Container c = first.start(id, ContainerSpec.builder().rootfs(rootfs).command("/bin/sh", "-c", "exit 3").build());
        assertThat(c.onExit().get(30, TimeUnit.SECONDS)).isEqualTo(ExitStatus.exited(3));
        ContainerRuntime second = runtime();
        assertThat(second.list()).filteredOn(i -> i.id().equals(id)).singleElement()
                .satisfies(i -> assertThat(i.status()).isEqualTo(ContainerStatus.EXITED));
        Path in = Files.writeString(tmp.resolve("in.txt"), "x");
        assertThatThrownBy(() -> second.files(id).copyIn(in, "/tmp/in.txt")).isInstanceOf(IOException.class)
                .hasMessage("container " + id + ": held by another runtime (the one that started it, or one restarting"
                        + " or removing it); try again, or copy through that runtime");
        assertThat(rootfs.resolve("tmp/in.txt")).doesNotExist();
        c.close(); // let go: now the copy goes through
        assertThat(second.list()).noneMatch(i -> i.id().equals(id)); // an attached container goes with its handle
    }
}
