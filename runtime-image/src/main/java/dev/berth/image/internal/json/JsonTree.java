package dev.berth.image.internal.json;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParseException;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonStreamContext;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadFeature;
import dev.berth.image.ImageException;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads a JSON document into plain Java values: {@link LinkedHashMap} for objects, {@link ArrayList}
 * for arrays, {@link String}, {@link Long}, {@link Boolean} and {@code null}. Integers beyond a long
 * become {@link java.math.BigInteger} and non-integral numbers {@link Double}, so that {@link
 * JsonFields} can name them in an error instead of silently truncating.
 *
 * <p>This replaces jackson-databind on the import and {@code berth run} path: a token walk over
 * jackson-core costs a fraction of databind's cold start (mapper set-up and bean introspection).
 *
 * <p>The document must be exactly one JSON value. Duplicate keys are rejected, because two parsers
 * that keep different duplicates would see two different images behind one digest; nesting is
 * bounded because no image document legitimately nests deeply and the walk is recursive.
 */
final class JsonTree {
  /** Deepest nesting of objects and arrays accepted; OCI documents need about five levels. */
  static final int MAX_DEPTH = 64;

  // STRICT_DUPLICATE_DETECTION is the StreamReadFeature face of JsonParser.Feature.STRICT_DUPLICATE_DETECTION.
  private static final JsonFactory FACTORY =
      JsonFactory.builder().enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION).build();

  private JsonTree() {}

  /**
   * Parses {@code bytes} (UTF-8, or UTF-16/32 as RFC 4627 detection finds it).
   *
   * @param what the document, named in every error
   * @return the root value; {@code null} for the document {@code null}
   */
  static Object parse(byte[] bytes, String what) throws ImageException {
    try (JsonParser p = FACTORY.createParser(bytes)) {
      JsonToken first = p.nextToken();
      if (first == null) {
        throw new ImageException(what + " is not valid JSON: no content");
      }
      Object root = value(p, first, what, 0);
      // Databind stopped after the first value; trailing data is rejected now, as Go's encoding/json
      // (Docker, containerd) rejects it, so no reader can see a second document that we ignored.
      if (p.nextToken() != null) {
        throw new ImageException(
            what + " is not valid JSON: content after the top-level value" + at(p.currentTokenLocation()));
      }
      return root;
    } catch (ImageException e) {
      throw e;
    } catch (JsonProcessingException e) {
      throw new ImageException(what + " is not valid JSON: " + e.getOriginalMessage() + at(e.getLocation()), e);
    } catch (IOException e) {
      // Only encoding detection can get here (e.g. a malformed UTF-32 byte sequence).
      throw new ImageException(what + " is not valid JSON: " + e.getMessage(), e);
    }
  }

  /** The value starting at token {@code t}, inside {@code depth} enclosing objects and arrays. */
  private static Object value(JsonParser p, JsonToken t, String what, int depth) throws IOException {
    switch (t) {
      case START_OBJECT:
        checkDepth(depth, what);
        Map<String, Object> object = new LinkedHashMap<>();
        for (JsonToken k = next(p, what); k != JsonToken.END_OBJECT; k = next(p, what)) {
          String name = p.currentName();
          object.put(name, value(p, next(p, what), what, depth + 1));
        }
        return object;
      case START_ARRAY:
        checkDepth(depth, what);
        List<Object> array = new ArrayList<>();
        for (JsonToken e = next(p, what); e != JsonToken.END_ARRAY; e = next(p, what)) {
          array.add(value(p, e, what, depth + 1));
        }
        return array;
      case VALUE_STRING:
        return p.getText();
      case VALUE_NUMBER_INT:
        return p.getNumberType() == JsonParser.NumberType.BIG_INTEGER ? p.getBigIntegerValue() : p.getLongValue();
      case VALUE_NUMBER_FLOAT:
        // A double never fails to parse (1e999 is Infinity); the value only feeds error messages.
        return p.getDoubleValue();
      case VALUE_TRUE:
        return Boolean.TRUE;
      case VALUE_FALSE:
        return Boolean.FALSE;
      case VALUE_NULL:
        return null;
      default:
        throw new ImageException(what + " is not valid JSON: unexpected " + t + at(p.currentTokenLocation()));
    }
  }

  private static void checkDepth(int enclosing, String what) throws ImageException {
    if (enclosing >= MAX_DEPTH) {
      throw new ImageException(what + ": objects and arrays nest deeper than " + MAX_DEPTH + " levels");
    }
  }

  /** The next token inside a container, turning the parser's duplicate-key failure into our error. */
  private static JsonToken next(JsonParser p, String what) throws IOException {
    try {
      JsonToken t = p.nextToken();
      if (t == null) {
        // The parser reports an unclosed container itself; this only guards the loop.
        throw new ImageException(what + " is not valid JSON: unexpected end of input");
      }
      return t;
    } catch (JsonParseException e) {
      // The parser has no dedicated exception type for duplicates, only this message. Should its
      // wording change, the duplicate is still rejected, as invalid JSON with the parser's text.
      String m = e.getOriginalMessage();
      if (m != null && m.startsWith("Duplicate field")) {
        // The context's current name is already the repeated key when the parser throws.
        throw new ImageException(what + ": duplicate key `" + path(p.getParsingContext()) + "`", e);
      }
      throw e;
    }
  }

  /** The dotted path (as {@link JsonFields} spells it) of the current name or index in {@code c}. */
  private static String path(JsonStreamContext c) {
    StringBuilder sb = new StringBuilder();
    for (; c != null && !c.inRoot(); c = c.getParent()) {
      if (c.inObject()) {
        sb.insert(0, c.getCurrentName()).insert(0, '.');
      } else {
        sb.insert(0, "[" + c.getCurrentIndex() + "]");
      }
    }
    return sb.length() > 0 && sb.charAt(0) == '.' ? sb.substring(1) : sb.toString();
  }

  private static String at(JsonLocation l) {
    if (l == null || l.getLineNr() < 0) {
      return "";
    }
    return " (line " + l.getLineNr() + ", column " + l.getColumnNr() + ")";
  }
}
