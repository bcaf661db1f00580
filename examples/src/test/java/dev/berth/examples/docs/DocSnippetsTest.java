package dev.berth.examples.docs;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.StringWriter;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.tools.JavaCompiler;
import javax.tools.JavaFileObject;
import javax.tools.SimpleJavaFileObject;
import javax.tools.ToolProvider;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Every {@code java} block of the API guide and the README compiles as shown, against the library:
 * its imports at the top, its statements as the body of a method. A snippet a reader cannot
 * paste because an import or a declaration is missing fails the build.
 */
class DocSnippetsTest {
    private static final Pattern BLOCK = Pattern.compile("```java\\n(.*?)```", Pattern.DOTALL);

    /** The repository root, from the module directory surefire runs in (or the root itself). */
    private static Path repo() {
        Path here = Path.of("").toAbsolutePath();
        return Files.exists(here.resolve("docs")) ? here : here.getParent();
    }

    /** A snippet as a compilation unit: its import lines, then the rest inside a method. */
    static String unit(String name, String snippet) {
        StringBuilder imports = new StringBuilder();
        StringBuilder body = new StringBuilder();
        for (String line : snippet.split("\n", -1)) {
            (line.startsWith("import ") && body.toString().isBlank() ? imports : body).append(line).append('\n');
        }
        return imports + "class " + name + " {\n    static void snippet() throws Exception {\n" + body + "    }\n}\n";
    }

    @ParameterizedTest
    @ValueSource(strings = {"docs/api.md", "README.md"})
    void everyJavaBlockCompiles(String doc) throws IOException {
        String text = Files.readString(repo().resolve(doc));
        Matcher m = BLOCK.matcher(text);
        List<JavaFileObject> units = new ArrayList<>();
        while (m.find()) {
            int line = text.substring(0, m.start()).split("\n", -1).length;
            String name = "Snippet_line" + line;
            String source = unit(name, m.group(1));
            units.add(new SimpleJavaFileObject(URI.create("string:///" + name + ".java"), JavaFileObject.Kind.SOURCE) {
                @Override
                public CharSequence getCharContent(boolean ignoreEncodingErrors) {
                    return source;
                }
            });
        }
        assertThat(units).as("java blocks in " + doc).isNotEmpty();
        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        StringWriter errors = new StringWriter();
        Path out = Files.createTempDirectory("snippets");
        boolean ok = javac.getTask(errors, null, null,
                List.of("-proc:none", "-d", out.toString(), "-classpath", System.getProperty("java.class.path")),
                null, units).call();
        assertThat(ok).as("%s: its java blocks compile (Snippet_lineN = the block at line N):%n%s", doc, errors).isTrue();
    }
}
