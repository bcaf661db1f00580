package dev.berth.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

class ExecSpecTest {

    @Test
    void defaultsAreTheContainersAndStdioAsAContainersSpecHasIt() {
        ExecSpec s = ExecSpec.of("sh", "-c", "true");
        assertThat(s.command()).containsExactly("sh", "-c", "true");
        assertThat(s.env()).isEmpty();
        assertThat(s.user()).isEmpty();
        assertThat(s.workingDir()).isEmpty();
        assertThat(s.tty()).isFalse();
        assertThat(s.stdin()).isEqualTo(Stdio.discard());
        assertThat(s.stdout()).isEqualTo(Stdio.inherit());
        assertThat(s.stderr()).isEqualTo(Stdio.inherit());
    }

    @Test
    void itIsImmutable() {
        List<String> argv = new java.util.ArrayList<>(List.of("a"));
        ExecSpec s = ExecSpec.builder().command(argv).env("K", "V").build();
        argv.add("b");
        assertThat(s.command()).containsExactly("a");
        assertThatThrownBy(() -> s.env().put("X", "1")).isInstanceOf(UnsupportedOperationException.class);
    }

    @Test
    void invalidFieldsAreNamed() {
        assertThatThrownBy(() -> ExecSpec.builder().build()).hasMessage("command: must not be empty");
        assertThatThrownBy(() -> ExecSpec.of("")).hasMessage("command[0]: the program must not be empty");
        assertThatThrownBy(() -> ExecSpec.of("a", "b\0c")).hasMessage("command[1]: must be non-null without NUL bytes");
        assertThatThrownBy(() -> ExecSpec.builder().command("a").env("A=B", "c").build())
                .hasMessage("env: invalid variable name \"A=B\"");
        assertThatThrownBy(() -> ExecSpec.builder().command("a").user("a b").build())
                .hasMessageStartingWith("user: expected user[:group]");
        assertThatThrownBy(() -> ExecSpec.builder().command("a").workingDir("tmp").build())
                .hasMessage("workingDir: \"tmp\" must be an absolute path");
        assertThatThrownBy(() -> ExecSpec.builder().command("a").tty(true).stdout(Stdio.pipe()).build())
                .hasMessageStartingWith("stdout: a process with a terminal (tty) has it as stdin");
        assertThatThrownBy(() -> ExecSpec.builder().command("a").stdin(Stdio.append(Path.of("/x"))).build())
                .hasMessage("stdin: cannot append to standard input");
    }

    @Test
    void usersByNameOrNumberWithAGroup() {
        assertThat(ExecSpec.builder().command("a").user(1000, 50).build().user()).contains("1000:50");
        assertThat(ExecSpec.builder().command("a").user("alice:staff").build().user()).contains("alice:staff");
    }
}
