package dev.berth.core;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * A process to run in a running container ({@link Container#exec}), as {@code docker exec} runs
 * one: in the container's namespaces, cgroup, root, capabilities and resource limits, with the
 * environment of the container's process plus this spec's variables, as the container's user
 * unless {@link Builder#user} says otherwise, in the container's working directory unless
 * {@link Builder#workingDir} says otherwise. Immutable; build it with {@link #builder()}.
 */
public final class ExecSpec {

    private final List<String> command;
    private final Map<String, String> env;
    private final Optional<String> user;
    private final Optional<String> workingDir;
    private final boolean tty;
    private final TerminalSize consoleSize;
    private final Stdio stdin;
    private final Stdio stdout;
    private final Stdio stderr;

    private ExecSpec(Builder b) {
        this.command = List.copyOf(b.command);
        this.env = Collections.unmodifiableMap(new LinkedHashMap<>(b.env));
        this.user = Optional.ofNullable(b.user);
        this.workingDir = Optional.ofNullable(b.workingDir);
        this.tty = b.tty;
        this.consoleSize = b.consoleSize;
        this.stdin = b.stdin != null ? b.stdin : Stdio.discard();
        this.stdout = b.stdout != null ? b.stdout : Stdio.inherit();
        this.stderr = b.stderr != null ? b.stderr : Stdio.inherit();
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Shorthand for a spec that runs {@code command} with everything else as the container has it. */
    public static ExecSpec of(String... command) {
        return builder().command(command).build();
    }

    /** The program (looked up in the process's {@code PATH} when it has no slash) and its arguments. */
    public List<String> command() {
        return command;
    }

    /** Variables set on top of the container's process's environment (they win over it). */
    public Map<String, String> env() {
        return env;
    }

    /** {@code user[:group]}, by name or number, resolved in the container's own /etc/passwd and /etc/group. */
    public Optional<String> user() {
        return user;
    }

    /** An absolute path in the container; the container's working directory when empty. */
    public Optional<String> workingDir() {
        return workingDir;
    }

    /** Whether the process gets a pseudo-terminal of its own (the container's devpts) as stdin, stdout and stderr. */
    public boolean tty() {
        return tty;
    }

    /** The size the terminal starts with (with {@link #tty()}). */
    public TerminalSize consoleSize() {
        return consoleSize;
    }

    /** Where its stdin comes from ({@link Stdio#discard()} unless set); not used with {@link #tty()}. */
    public Stdio stdin() {
        return stdin;
    }

    /** Where its stdout goes ({@link Stdio#inherit()} unless set); not used with {@link #tty()}. */
    public Stdio stdout() {
        return stdout;
    }

    /** Where its stderr goes ({@link Stdio#inherit()} unless set); not used with {@link #tty()}. */
    public Stdio stderr() {
        return stderr;
    }

    @Override
    public String toString() {
        return "ExecSpec" + command + (user.map(u -> " user=" + u).orElse(""))
                + (workingDir.map(w -> " workdir=" + w).orElse("")) + (tty ? " tty" : "");
    }

    /** Builds an {@link ExecSpec}; {@link #build()} validates. */
    public static final class Builder {
        private List<String> command = new ArrayList<>();
        private final Map<String, String> env = new LinkedHashMap<>();
        private String user;
        private String workingDir;
        private boolean tty;
        private TerminalSize consoleSize = TerminalSize.DEFAULT;
        private Stdio stdin;
        private Stdio stdout;
        private Stdio stderr;

        private Builder() {}

        public Builder command(List<String> command) {
            this.command = new ArrayList<>(Objects.requireNonNull(command, "command"));
            return this;
        }

        public Builder command(String... command) {
            return command(List.of(command));
        }

        /** Sets a variable on top of the container's environment. */
        public Builder env(String key, String value) {
            env.put(key, value);
            return this;
        }

        public Builder env(Map<String, String> variables) {
            env.putAll(variables);
            return this;
        }

        /** {@code user[:group]} by name or number, as {@code docker exec --user} takes it. */
        public Builder user(String user) {
            this.user = user;
            return this;
        }

        public Builder user(long uid, long gid) {
            return user(uid + ":" + gid);
        }

        public Builder workingDir(String dir) {
            this.workingDir = dir;
            return this;
        }

        /** A pseudo-terminal of its own; {@link ExecProcess#stdin()} and {@link ExecProcess#stdout()} are its two directions. */
        public Builder tty(boolean on) {
            this.tty = on;
            return this;
        }

        public Builder consoleSize(TerminalSize size) {
            this.consoleSize = Objects.requireNonNull(size, "consoleSize");
            return this;
        }

        public Builder stdin(Stdio stdio) {
            this.stdin = Objects.requireNonNull(stdio, "stdin");
            return this;
        }

        public Builder stdout(Stdio stdio) {
            this.stdout = Objects.requireNonNull(stdio, "stdout");
            return this;
        }

        public Builder stderr(Stdio stdio) {
            this.stderr = Objects.requireNonNull(stdio, "stderr");
            return this;
        }

        /** @throws IllegalArgumentException naming the field that is wrong */
        public ExecSpec build() {
            if (command.isEmpty()) {
                throw new IllegalArgumentException("command: must not be empty");
            }
            SpecChecks.checkArgv("command", command);
            if (command.get(0).isEmpty()) {
                throw new IllegalArgumentException("command[0]: the program must not be empty");
            }
            SpecChecks.checkEnv(env);
            if (user != null && !SpecChecks.USER.matcher(user).matches()) {
                throw new IllegalArgumentException("user: expected user[:group] by name or number, got \"" + user + "\"");
            }
            if (workingDir != null && (!workingDir.startsWith("/") || workingDir.indexOf('\0') >= 0)) {
                throw new IllegalArgumentException("workingDir: \"" + workingDir + "\" must be an absolute path");
            }
            String stdioSet = stdin != null ? "stdin" : stdout != null ? "stdout" : stderr != null ? "stderr" : null;
            if (tty && stdioSet != null) {
                throw new IllegalArgumentException(stdioSet + ": a process with a terminal (tty) has it as stdin,"
                        + " stdout and stderr; ExecProcess.stdin() and stdout() are its two directions");
            }
            if (stdin != null && stdin.kind() == Stdio.Kind.APPEND) {
                throw new IllegalArgumentException("stdin: cannot append to standard input");
            }
            return new ExecSpec(this);
        }
    }
}
