package dev.berth.image.internal.json;

import dev.berth.image.ImageException;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * One JSON object of a document parsed by {@link JsonTree}, read through typed accessors.
 *
 * <p>A field that is absent or JSON {@code null} reads as Java {@code null}, as the databind DTOs
 * read it before, so callers keep one "missing" case. A field of the wrong JSON type is an {@link
 * ImageException} naming the document and the field's path from the root, e.g. {@code manifest X:
 * field `layers[1].size` must be a number, not a string}. Nothing is coerced: a string is never
 * read as a number or the other way round, and a number with a fraction is not an integer. Fields
 * nobody asks for are ignored.
 */
final class JsonFields {
  private final String what;
  // Where this object sits, kept as links and spelled out only for an error: building path strings
  // for every object read would put string concatenation (and its cold bootstrap) on the hot path.
  private final JsonFields parent; // the object holding this one; null at the root
  private final String key; // this object's key in parent, or of the array holding it; null if none
  private final int index; // this object's index in that array, or -1
  private final Map<String, Object> fields;

  private JsonFields(String what, JsonFields parent, String key, int index, Map<String, Object> fields) {
    this.what = what;
    this.parent = parent;
    this.key = key;
    this.index = index;
    this.fields = fields;
  }

  /** The root object of a document; the document {@code null} is empty, any other value wrong. */
  static JsonFields document(Object root, String what) throws ImageException {
    if (root == null) {
      throw new ImageException(what + " is empty");
    }
    if (!(root instanceof Map)) {
      throw new ImageException(what + ": the document must be an object, not " + kind(root));
    }
    return new JsonFields(what, null, null, -1, asObject(root));
  }

  /**
   * The elements of a document whose root is an array of objects; {@code null} for the document
   * {@code null}. A JSON null element is a {@code null} entry; the caller decides whether it may be.
   */
  static List<JsonFields> arrayDocument(Object root, String what) throws ImageException {
    if (root == null) {
      return null;
    }
    if (!(root instanceof List)) {
      throw new ImageException(what + ": the document must be an array, not " + kind(root));
    }
    return objects(what, null, null, (List<?>) root);
  }

  /** The path of field {@code name} of this object from the document root, e.g. {@code layers[1].size}. */
  String path(String name) {
    StringBuilder sb = new StringBuilder();
    appendPath(sb);
    if (sb.length() > 0) {
      sb.append('.');
    }
    return sb.append(name).toString();
  }

  private void appendPath(StringBuilder sb) {
    if (parent != null) {
      parent.appendPath(sb);
    }
    if (key != null) {
      if (sb.length() > 0) {
        sb.append('.');
      }
      sb.append(key);
    }
    if (index >= 0) {
      sb.append('[').append(index).append(']');
    }
  }

  String string(String name) throws ImageException {
    Object v = fields.get(name);
    if (v == null || v instanceof String) {
      return (String) v;
    }
    throw wrongType(path(name), "a string", v);
  }

  /** An integer field that must fit a long. */
  Long int64(String name) throws ImageException {
    Object v = fields.get(name);
    if (v == null || v instanceof Long) {
      return (Long) v;
    }
    if (v instanceof BigInteger) {
      throw new ImageException(what + ": field `" + path(name) + "` is out of range: " + v);
    }
    if (v instanceof Double) {
      throw new ImageException(
          what + ": field `" + path(name) + "` must be an integer (no fraction or exponent), not " + v);
    }
    throw wrongType(path(name), "a number", v);
  }

  /** An integer field that must fit an int. */
  Integer int32(String name) throws ImageException {
    Long v = int64(name);
    if (v == null) {
      return null;
    }
    if (v != v.intValue()) {
      throw new ImageException(what + ": field `" + path(name) + "` is out of range: " + v);
    }
    return v.intValue();
  }

  JsonFields object(String name) throws ImageException {
    Object v = fields.get(name);
    if (v == null) {
      return null;
    }
    if (v instanceof Map) {
      return new JsonFields(what, this, name, -1, asObject(v));
    }
    throw wrongType(path(name), "an object", v);
  }

  /** An array of objects; a JSON null element is a {@code null} entry. */
  List<JsonFields> objects(String name) throws ImageException {
    List<?> array = array(name);
    return array == null ? null : objects(what, this, name, array);
  }

  /** An array of strings; elements must be strings, not null. */
  List<String> strings(String name) throws ImageException {
    List<?> array = array(name);
    if (array == null) {
      return null;
    }
    List<String> out = new ArrayList<>(array.size());
    for (int i = 0; i < array.size(); i++) {
      Object e = array.get(i);
      if (!(e instanceof String)) {
        throw wrongType(path(name) + "[" + i + "]", "a string", e);
      }
      out.add((String) e);
    }
    return out;
  }

  /** An object whose values must all be strings (annotations, labels), in document order. */
  Map<String, String> stringMap(String name) throws ImageException {
    JsonFields o = object(name);
    if (o == null) {
      return null;
    }
    Map<String, String> out = new LinkedHashMap<>();
    for (Map.Entry<String, Object> e : o.fields.entrySet()) {
      if (!(e.getValue() instanceof String)) {
        throw wrongType(o.path(e.getKey()), "a string", e.getValue());
      }
      out.put(e.getKey(), (String) e.getValue());
    }
    return out;
  }

  /** The keys of an object used as a set, such as {@code ExposedPorts}; the values may be anything. */
  Set<String> keys(String name) throws ImageException {
    JsonFields o = object(name);
    return o == null ? null : new LinkedHashSet<>(o.fields.keySet());
  }

  private List<?> array(String name) throws ImageException {
    Object v = fields.get(name);
    if (v == null || v instanceof List) {
      return (List<?>) v;
    }
    throw wrongType(path(name), "an array", v);
  }

  /** The elements of the array under {@code key} of {@code parent} (both null for a root array). */
  private static List<JsonFields> objects(String what, JsonFields parent, String key, List<?> array)
      throws ImageException {
    List<JsonFields> out = new ArrayList<>(array.size());
    for (int i = 0; i < array.size(); i++) {
      Object e = array.get(i);
      if (e != null && !(e instanceof Map)) {
        String at = (parent == null ? "" : parent.path(key)) + "[" + i + "]";
        throw new ImageException(what + ": field `" + at + "` must be an object, not " + kind(e));
      }
      out.add(e == null ? null : new JsonFields(what, parent, key, i, asObject(e)));
    }
    return out;
  }

  private ImageException wrongType(String at, String expected, Object v) {
    return new ImageException(what + ": field `" + at + "` must be " + expected + ", not " + kind(v));
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> asObject(Object v) {
    return (Map<String, Object>) v;
  }

  /** The JSON type of a tree value, with an article, for messages. */
  private static String kind(Object v) {
    if (v == null) {
      return "null";
    } else if (v instanceof String) {
      return "a string";
    } else if (v instanceof Number) {
      return "a number";
    } else if (v instanceof Boolean) {
      return "a boolean";
    } else if (v instanceof List) {
      return "an array";
    }
    return "an object";
  }
}
