package dev.berth.examples.cli;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * docker's {@code --env-file} format: one {@code VAR=VAL} a line (the value verbatim: no quotes
 * removed, no trimming), or {@code VAR} alone to take the variable from the caller's environment
 * (left unset when the caller has none); leading whitespace is ignored, lines starting with
 * {@code #} and blank lines are skipped, a UTF-8 byte order mark and CRLF line ends are taken.
 */
final class EnvFile {
    /** Far beyond what execve takes for a whole environment (2 MiB): a larger file is a mistake. */
    static final int MAX_BYTES = 16 << 20;

    private EnvFile() {}

    /** A variable to set. */
    record Variable(String name, String value) {}

    /**
     * The environment {@code --env-file} and {@code -e} give, as docker resolves them: the files in
     * order, then each {@code -e} (it has the last word); {@code -e K} alone takes K from the
     * caller's environment, or leaves it out when that has none.
     *
     * @throws IllegalArgumentException naming the file and line, or the {@code -e} value
     */
    static Map<String, String> resolve(List<Path> files, List<String> flags, Map<String, String> caller) {
        Map<String, String> out = new java.util.LinkedHashMap<>();
        for (Path file : files) {
            for (Variable v : read(file, caller)) {
                out.put(v.name(), v.value());
            }
        }
        for (String kv : flags) {
            int eq = kv.indexOf('=');
            if (eq == 0 || kv.isEmpty()) {
                throw new IllegalArgumentException("--env: expected K=V or K, got \"" + kv + "\"");
            }
            if (eq > 0) {
                out.put(kv.substring(0, eq), kv.substring(eq + 1));
            } else if (caller.containsKey(kv)) {
                out.put(kv, caller.get(kv));
            }
        }
        return out;
    }

    /**
     * The variables a file sets, in order.
     *
     * @throws IllegalArgumentException naming the file and, for a bad line, its number
     */
    static List<Variable> read(Path file, Map<String, String> caller) {
        byte[] bytes;
        try (InputStream in = Files.newInputStream(file)) { // not only regular files: --env-file <(command)
            bytes = in.readNBytes(MAX_BYTES + 1);
        } catch (NoSuchFileException e) {
            throw new IllegalArgumentException("--env-file " + file + ": no such file");
        } catch (AccessDeniedException e) {
            throw new IllegalArgumentException("--env-file " + file + ": permission denied");
        } catch (IOException e) {
            throw new IllegalArgumentException("--env-file " + file + ": " + e.getMessage());
        }
        if (bytes.length > MAX_BYTES) {
            throw new IllegalArgumentException("--env-file " + file + ": larger than " + MAX_BYTES + " bytes");
        }
        return parse(file.toString(), bytes, caller);
    }

    static List<Variable> parse(String name, byte[] bytes, Map<String, String> caller) {
        List<Variable> out = new ArrayList<>();
        int start = 0;
        for (int number = 1; start < bytes.length; number++) {
            int end = start;
            while (end < bytes.length && bytes[end] != '\n') {
                end++;
            }
            int stop = end > start && bytes[end - 1] == '\r' ? end - 1 : end;
            byte[] raw = Arrays.copyOfRange(bytes, start, stop);
            start = end + 1;
            String where = "--env-file " + name + ":" + number + ": ";
            String line;
            try {
                line = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                        .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(raw)).toString();
            } catch (CharacterCodingException e) {
                throw new IllegalArgumentException(where + "not valid UTF-8");
            }
            if (number == 1 && line.startsWith("\uFEFF")) {
                line = line.substring(1);
            }
            line = line.stripLeading();
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            if (line.indexOf('\0') >= 0) {
                throw new IllegalArgumentException(where + "a NUL byte, which no environment can hold");
            }
            int eq = line.indexOf('=');
            String variable = eq < 0 ? line : line.substring(0, eq);
            if (variable.isEmpty()) {
                throw new IllegalArgumentException(where + "no variable name before '='");
            }
            if (variable.chars().anyMatch(Character::isWhitespace)) {
                throw new IllegalArgumentException(where + "variable name '" + variable + "' contains whitespace");
            }
            if (eq >= 0) {
                out.add(new Variable(variable, line.substring(eq + 1)));
            } else if (caller.containsKey(variable)) {
                out.add(new Variable(variable, caller.get(variable)));
            }
        }
        return out;
    }
}
