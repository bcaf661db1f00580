package dev.berth.examples.embed;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.testing.RequiresRoot;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** The seccomp listener example of docs/api.md sees each mount of the container and its answer holds. */
@RequiresRoot
class MountAuditExampleIT {
    @Test
    void theListenerSeesAndAnswersEachMount() throws Exception {
        PrintStream saved = System.out;
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        System.setOut(new PrintStream(buf, true, StandardCharsets.UTF_8));
        try {
            MountAuditExample.main(new String[] {System.getProperty("berth.test.rootfs")});
        } finally {
            System.setOut(saved);
        }
        String out = buf.toString(StandardCharsets.UTF_8);
        assertThat(out).containsPattern("audit: audited pid \\d+ mount tmpfs on /tmp: allowed\n")
                .containsPattern("audit: audited pid \\d+ mount tmpfs on /proc: refused\n")
                .endsWith("container said:\nmount: ok 0\nmount: Operation not permitted\n");
    }
}
