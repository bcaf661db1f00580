package dev.berth.core.internal.state;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;

/** The one Jackson mapper of the state files (Jib's {@code JsonTemplateMapper}). */
public final class StateJson {
    /**
     * Unknown fields are ignored: a later Berth may add fields to v1 (health, logs, ...) that this
     * one, reading the same root, does not know; a changed meaning gets a new schema instead.
     */
    private static final ObjectMapper MAPPER = new ObjectMapper()
            .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);

    private StateJson() {}

    public static byte[] write(StateDocument d) {
        try {
            return MAPPER.writeValueAsBytes(d);
        } catch (IOException e) {
            throw new IllegalStateException("state of " + d.id() + ": " + e.getMessage(), e);
        }
    }

    /** @throws IOException for bytes that are not a state of this schema */
    public static StateDocument read(byte[] json) throws IOException {
        StateDocument d = MAPPER.readValue(json, StateDocument.class);
        if (!StateDocument.SCHEMA.equals(d.schema())) {
            throw new IOException("schema \"" + d.schema() + "\" is not " + StateDocument.SCHEMA);
        }
        if (d.id() == null || d.status() == null) {
            throw new IOException("id and status are required");
        }
        try {
            d.containerStatus();
        } catch (IllegalArgumentException e) {
            throw new IOException(e.getMessage(), e);
        }
        return d;
    }
}
