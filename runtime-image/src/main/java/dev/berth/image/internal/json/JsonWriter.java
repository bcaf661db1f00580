package dev.berth.image.internal.json;

import com.fasterxml.jackson.core.JsonEncoding;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Deterministic compact JSON on a {@link JsonGenerator}. Callers write fields in the documented
 * order; a {@code null} value leaves its field out (what {@code @JsonInclude(NON_NULL)} did), and map
 * entries are written sorted by key (what {@code ORDER_MAP_ENTRIES_BY_KEYS} did). The bytes matter,
 * not just the content: a docker-archive import stores the manifest it writes under the digest of
 * these bytes, so the same record must always give the same bytes, the same as databind gave.
 */
final class JsonWriter {
  private static final JsonFactory FACTORY = new JsonFactory();

  /** Writes one document. */
  @FunctionalInterface
  interface Body {
    void write(JsonWriter w) throws IOException;
  }

  private final JsonGenerator g;

  private JsonWriter(JsonGenerator g) {
    this.g = g;
  }

  static byte[] document(Body body) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(1024);
    try (JsonGenerator g = FACTORY.createGenerator(out, JsonEncoding.UTF8)) {
      body.write(new JsonWriter(g));
    } catch (IOException e) {
      // Writing to memory does not fail; this would be a bug (e.g. unbalanced objects).
      throw new IllegalStateException(e);
    }
    return out.toByteArray();
  }

  void startObject() throws IOException {
    g.writeStartObject();
  }

  void startObject(String name) throws IOException {
    g.writeFieldName(name);
    g.writeStartObject();
  }

  void endObject() throws IOException {
    g.writeEndObject();
  }

  void startArray(String name) throws IOException {
    g.writeFieldName(name);
    g.writeStartArray();
  }

  void endArray() throws IOException {
    g.writeEndArray();
  }

  /** Omitted when {@code value} is null. */
  void string(String name, String value) throws IOException {
    if (value != null) {
      g.writeStringField(name, value);
    }
  }

  void number(String name, long value) throws IOException {
    g.writeNumberField(name, value);
  }

  /** Omitted when {@code values} is null; an empty list is written as {@code []}. */
  void strings(String name, List<String> values) throws IOException {
    if (values != null) {
      g.writeFieldName(name);
      g.writeStartArray();
      for (String v : values) {
        g.writeString(v);
      }
      g.writeEndArray();
    }
  }

  /** An object of strings sorted by key; omitted when {@code map} is null. */
  void stringMap(String name, Map<String, String> map) throws IOException {
    if (map != null) {
      g.writeFieldName(name);
      g.writeStartObject();
      for (Map.Entry<String, String> e : new TreeMap<>(map).entrySet()) {
        g.writeStringField(e.getKey(), e.getValue());
      }
      g.writeEndObject();
    }
  }

  /**
   * A set as an object mapping each key, sorted, to {@code {}} (the Go {@code map[string]struct{}}
   * of {@code ExposedPorts} and {@code Volumes}); omitted when {@code keys} is null.
   */
  void keySet(String name, Set<String> keys) throws IOException {
    if (keys != null) {
      g.writeFieldName(name);
      g.writeStartObject();
      for (String k : new TreeSet<>(keys)) {
        g.writeFieldName(k);
        g.writeStartObject();
        g.writeEndObject();
      }
      g.writeEndObject();
    }
  }
}
