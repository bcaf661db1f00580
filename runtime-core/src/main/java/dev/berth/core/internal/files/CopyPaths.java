package dev.berth.core.internal.files;

import java.nio.file.Path;

/** Path arithmetic of copies, on the absolute slash-separated paths of a tree (no file access). */
final class CopyPaths {
    private CopyPaths() {}

    /** {@code path} made absolute and normal: no empty, {@code .} or {@code ..} components ({@code ..} stops at the top). */
    static String normalize(String path) {
        return Path.of("/").resolve(path).normalize().toString();
    }

    /** {@code {parent, name}} of a path; the top is {@code {"/", "."}}. */
    static String[] parentAndName(String path) {
        String n = normalize(path);
        if (n.equals("/")) {
            return new String[] {"/", "."};
        }
        int slash = n.lastIndexOf('/');
        return new String[] {slash == 0 ? "/" : n.substring(0, slash), n.substring(slash + 1)};
    }

    /** Whether {@code path} asks for a directory's contents rather than the directory: ends in {@code /.}. */
    static boolean contentsOnly(String path) {
        return path.equals(".") || path.endsWith("/.");
    }
}
