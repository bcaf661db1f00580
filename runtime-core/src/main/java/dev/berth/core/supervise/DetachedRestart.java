package dev.berth.core.supervise;

import dev.berth.core.ExitStatus;
import dev.berth.core.RestartPolicy;
import java.time.Duration;

/**
 * The decision a detached container's supervisor (its exit command, or a runtime holding its
 * supervisor lease) makes when one of its runs ended, as a pure function of what the state
 * records: the policy, how the run ended, how often it was restarted, whether an explicit stop was
 * recorded, and the backoff so far with how long the run lasted. The same rules as
 * {@link SupervisedContainer}'s: an explicit stop is never undone; the backoff doubles from 100 ms
 * after short runs, is capped, and starts over after a stable run.
 */
public final class DetachedRestart {
    private DetachedRestart() {}

    /** What to do. */
    public enum Verdict {
        /** Restart after {@link Decision#delay()}, as restart number {@link Decision#restartCount()}. */
        RESTART,
        /** An explicit stop was recorded: it stays exited. */
        STOPPED,
        /** The policy does not restart it (no, on-failure after a success or past its retries). */
        POLICY
    }

    /**
     * @param streak       the backoff's streak to record for the next decision
     * @param restartCount the count the new run will have (only for {@link Verdict#RESTART})
     */
    public record Decision(Verdict verdict, Duration delay, int streak, int restartCount) {
        /** One line for the exit command's log. */
        public String describe(String id, ExitStatus status) {
            return switch (verdict) {
                case RESTART -> "container " + id + " ended (" + status + "): restart " + restartCount + " in "
                        + delay.toMillis() + " ms";
                case STOPPED -> "container " + id + " ended (" + status + ") after an explicit stop: not restarted";
                case POLICY -> "container " + id + " ended (" + status + "): its restart policy does not restart it";
            };
        }
    }

    /**
     * @param restartsSoFar the ended run's restart count
     * @param streak        the recorded backoff streak (0 before any restart)
     * @param ran           how long the ended run lasted (started to finished)
     */
    public static Decision decide(RestartPolicy policy, ExitStatus status, int restartsSoFar, boolean stopRequested,
            int streak, Duration ran) {
        return decide(policy, status, restartsSoFar, stopRequested, false, streak, ran);
    }

    /**
     * @param restartRequested a restart of the run was requested (an unhealthy action {@code restart} of
     *                         an adopted handle): it restarts whatever the policy; a stop still wins
     */
    public static Decision decide(RestartPolicy policy, ExitStatus status, int restartsSoFar, boolean stopRequested,
            boolean restartRequested, int streak, Duration ran) {
        if (stopRequested) {
            return new Decision(Verdict.STOPPED, Duration.ZERO, streak, restartsSoFar);
        }
        if (!restartRequested && !policy.restartsAfter(status, restartsSoFar)) {
            return new Decision(Verdict.POLICY, Duration.ZERO, streak, restartsSoFar);
        }
        RestartBackoff next = new RestartBackoff(streak).after(ran.isNegative() ? Duration.ZERO : ran);
        return new Decision(Verdict.RESTART, next.delay(), next.streak(), restartsSoFar + 1);
    }
}
