package dev.berth.core.internal.files;

import static dev.berth.core.internal.files.ContainerFilesImpl.Kind.DIRECTORY;
import static dev.berth.core.internal.files.ContainerFilesImpl.Kind.FILE;
import static dev.berth.core.internal.files.ContainerFilesImpl.Kind.MISSING;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.core.internal.files.ContainerFilesImpl.Target;
import java.io.IOException;
import java.nio.file.NoSuchFileException;
import org.junit.jupiter.api.Test;

/** docker cp's rules: which directory receives the archive, and what its top entry is called. */
class CopyRulesTest {

    @Test
    void aFileLandsInsideADirectoryOrAsTheDestination() throws IOException {
        assertThat(ContainerFilesImpl.rules(FILE, "/src/a.txt", DIRECTORY, "/dst", DIRECTORY))
                .isEqualTo(new Target("/dst", "a.txt"));
        assertThat(ContainerFilesImpl.rules(FILE, "/src/a.txt", MISSING, "/dst/b.txt", DIRECTORY))
                .isEqualTo(new Target("/dst", "b.txt"));
        assertThat(ContainerFilesImpl.rules(FILE, "/src/a.txt", FILE, "/dst/b.txt", DIRECTORY))
                .as("an existing file is replaced").isEqualTo(new Target("/dst", "b.txt"));
        assertThatThrownBy(() -> ContainerFilesImpl.rules(FILE, "/src/a.txt", MISSING, "/dst/new/", DIRECTORY))
                .isInstanceOf(NoSuchFileException.class).hasMessageContaining("the destination directory must exist");
        assertThatThrownBy(() -> ContainerFilesImpl.rules(FILE, "/src/a.txt", MISSING, "/no/dir/b.txt", MISSING))
                .isInstanceOf(NoSuchFileException.class).hasMessageContaining("its directory /no/dir does not exist");
    }

    @Test
    void aDirectoryLandsInsideOrBecomesTheDestinationOrGivesItsContents() throws IOException {
        assertThat(ContainerFilesImpl.rules(DIRECTORY, "/src/d", DIRECTORY, "/dst", DIRECTORY))
                .isEqualTo(new Target("/dst", "d"));
        assertThat(ContainerFilesImpl.rules(DIRECTORY, "/src/d", MISSING, "/dst/e", DIRECTORY))
                .isEqualTo(new Target("/dst", "e"));
        assertThat(ContainerFilesImpl.rules(DIRECTORY, "/src/d/.", DIRECTORY, "/dst", DIRECTORY))
                .isEqualTo(new Target("/dst", ""));
        assertThat(ContainerFilesImpl.rules(DIRECTORY, "/src/d/.", MISSING, "/dst/e", DIRECTORY))
                .as("made, with the contents").isEqualTo(new Target("/dst", "e"));
        assertThatThrownBy(() -> ContainerFilesImpl.rules(DIRECTORY, "/src/d", FILE, "/dst/f", DIRECTORY))
                .hasMessage("cannot copy a directory to a file: /src/d to /dst/f");
        assertThatThrownBy(() -> ContainerFilesImpl.rules(MISSING, "/src/none", DIRECTORY, "/dst", DIRECTORY))
                .isInstanceOf(NoSuchFileException.class);
    }

    @Test
    void pathsAreNormalisedWithinTheTree() {
        assertThat(CopyPaths.normalize("etc//passwd")).isEqualTo("/etc/passwd");
        assertThat(CopyPaths.normalize("/../../etc")).as(".. stops at the top").isEqualTo("/etc");
        assertThat(CopyPaths.parentAndName("/")).containsExactly("/", ".");
        assertThat(CopyPaths.parentAndName("/a")).containsExactly("/", "a");
        assertThat(CopyPaths.parentAndName("/a/b/")).containsExactly("/a", "b");
        assertThat(CopyPaths.contentsOnly("/a/.")).isTrue();
        assertThat(CopyPaths.contentsOnly("/a/")).isFalse();
    }
}
