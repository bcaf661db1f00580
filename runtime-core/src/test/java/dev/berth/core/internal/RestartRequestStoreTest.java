package dev.berth.core.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.core.internal.state.StateDocument;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A restart request names one run (its monitor's pid and start time): never another, private, refused when corrupt. */
class RestartRequestStoreTest {
    @TempDir
    Path dir;

    @Test
    void aRequestNamesOneRunOnly() throws Exception {
        StateStore store = new StateStore(dir.resolve("state"), new dev.berth.core.internal.linux.LinuxSyscalls());
        StateStore.Claim claim = store.claim("c1");
        StateDocument.ProcessDoc run = new StateDocument.ProcessDoc(4242, 987654);
        assertThat(store.restartRequested("c1", run)).isFalse();
        store.requestRestart("c1", run);
        assertThat(store.restartRequested("c1", run)).isTrue();
        // the next run (a new monitor), a recycled pid with another start time, no run: not requested
        assertThat(store.restartRequested("c1", new StateDocument.ProcessDoc(4243, 987700))).isFalse();
        assertThat(store.restartRequested("c1", new StateDocument.ProcessDoc(4242, 1))).isFalse();
        assertThat(store.restartRequested("c1", null)).isFalse();
        Path f = dir.resolve("state").resolve("c1").resolve("restart-request.json");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(f))).isEqualTo("rw-------");
        // a request for a later run replaces it
        store.requestRestart("c1", new StateDocument.ProcessDoc(5000, 1000));
        assertThat(store.restartRequested("c1", run)).isFalse();
        // a file that is not a request is an error naming it
        Files.writeString(f, "{not json");
        assertThatThrownBy(() -> store.restartRequested("c1", run)).isInstanceOf(UncheckedIOException.class)
                .hasMessageContaining(f.toString());
        // and it goes with the state
        store.remove("c1");
        claim.lock().close();
        assertThat(store.restartRequested("c1", run)).isFalse();
    }
}
