package dev.berth.core;

import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Objects;

/**
 * One run of a health check, as docker's {@code State.Health.Log} has it: the exit code (0 healthy,
 * 1 unhealthy; for TCP and HTTP checks the same meaning), what it printed or why it failed (at most
 * {@value #MAX_OUTPUT} bytes of UTF-8, the rest cut off as docker does), and when it started and ended.
 */
public record HealthResult(int exitCode, String output, Instant start, Instant end) {
    /** The most output kept, in bytes (docker's {@code maxOutputLen}). */
    public static final int MAX_OUTPUT = 4096;

    public HealthResult {
        Objects.requireNonNull(start, "start");
        Objects.requireNonNull(end, "end");
        output = truncate(output == null ? "" : output);
    }

    public boolean healthy() {
        return exitCode == 0;
    }

    private static String truncate(String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        if (b.length <= MAX_OUTPUT) {
            return s;
        }
        CharsetDecoder d = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.IGNORE)
                .onUnmappableCharacter(CodingErrorAction.IGNORE);
        CharBuffer out = CharBuffer.allocate(MAX_OUTPUT);
        d.decode(ByteBuffer.wrap(b, 0, MAX_OUTPUT), out, true); // a character cut in two is dropped
        return out.flip().toString();
    }
}
