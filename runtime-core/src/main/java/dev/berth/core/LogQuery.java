package dev.berth.core;

import java.time.Instant;
import java.util.Objects;
import java.util.Optional;

/**
 * What {@link Container#logs(LogQuery)} reads, as {@code docker logs} options: {@code --since},
 * {@code --until}, {@code --tail}, {@code --follow}.
 */
public final class LogQuery {
    /** Everything kept, no follow. */
    public static final LogQuery ALL = builder().build();

    private final Instant since;
    private final Instant until;
    private final int tail;
    private final boolean follow;

    private LogQuery(Builder b) {
        this.since = b.since;
        this.until = b.until;
        this.tail = b.tail;
        this.follow = b.follow;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Only lines read at or after this time. */
    public Optional<Instant> since() {
        return Optional.ofNullable(since);
    }

    /** Only lines read before this time. */
    public Optional<Instant> until() {
        return Optional.ofNullable(until);
    }

    /** The last {@code n} lines of what is kept (then, following, the new ones); -1: all. */
    public int tail() {
        return tail;
    }

    /**
     * Keep reading new lines as they come: the stream ends once the container has ended and its log
     * is read to the end, or when the stream is closed.
     */
    public boolean follow() {
        return follow;
    }

    public static final class Builder {
        private Instant since;
        private Instant until;
        private int tail = -1;
        private boolean follow;

        private Builder() {}

        public Builder since(Instant time) {
            this.since = Objects.requireNonNull(time, "since");
            return this;
        }

        public Builder until(Instant time) {
            this.until = Objects.requireNonNull(time, "until");
            return this;
        }

        /** @param lines the last lines to give, 0 or more; -1 for all */
        public Builder tail(int lines) {
            if (lines < -1) {
                throw new IllegalArgumentException("tail: " + lines + "; 0 or more, or -1 for all");
            }
            this.tail = lines;
            return this;
        }

        public Builder follow(boolean on) {
            this.follow = on;
            return this;
        }

        public LogQuery build() {
            if (since != null && until != null && until.isBefore(since)) {
                throw new IllegalArgumentException("until: " + until + " is before since " + since);
            }
            return new LogQuery(this);
        }
    }
}
