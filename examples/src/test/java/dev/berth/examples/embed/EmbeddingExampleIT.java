package dev.berth.examples.embed;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.testing.RequiresRoot;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** Keeps docs/api.md true: the example it walks through runs and prints what the guide says. */
@RequiresRoot
class EmbeddingExampleIT {
    @Test
    void theExampleRuns() throws Exception {
        PrintStream saved = System.out;
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        System.setOut(new PrintStream(buf, true, StandardCharsets.UTF_8));
        try {
            EmbeddingExample.main(new String[] {System.getProperty("berth.test.rootfs")});
        } finally {
            System.setOut(saved);
        }
        assertThat(buf.toString(StandardCharsets.UTF_8)).contains(
                "worker said: job 42",
                "worker ended: exited 0",
                "service says: ready",
                "exec in service: uid=1000 gid=1000 euid=1000 egid=1000, exited 0",
                "service stopped: exited 115",
                "start failed at chdir: chdir(/does/not/exist): No such file or directory");
    }
}
