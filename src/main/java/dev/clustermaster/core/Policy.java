package dev.clustermaster.core;

/**
 * The timing rules the master applies; plain values so the core stays free of configuration parsing.
 * The product defaults live in {@code config.Config.Builder}; the short constructor here turns every newer
 * supervision feature off (no probation, no hand-off, no watchdog, no recycling), which unit tests build on.
 *
 * @param requireNotify       true: a worker is ready only when it sends READY=1, and fails if it has not within
 *                            {@code readyTimeoutMillis}; false: READY=1 or {@code readyGraceMillis} of uptime, whichever first
 * @param readyGraceMillis    uptime after which a worker that never notifies counts as ready
 * @param readyTimeoutMillis  how long a notifying worker may take to become ready
 * @param stopTimeoutMillis   stop signal to SIGKILL
 * @param surge               slots replaced at once during a rolling restart; 0: {@link #AUTO_SURGE}, see {@link #surgeFor}
 * @param healthyUptimeMillis a worker that ran this long resets its slot's crash count
 * @param probationMillis     a replacement (rolling restart, recycling) must stay up this long after READY before
 *                            the worker it replaces is stopped; 0 stops the old one at READY
 * @param stopSignal          the signal of a graceful stop (TERM; QUIT for nginx-like workers)
 * @param crashLoop           when the master gives up and exits so systemd takes over
 * @param watchdogMillis      a worker that sent WATCHDOG=1 must send it again within this; 0: no worker watchdog
 * @param dumpSignal          sent to a hung worker's main process before it is stopped (SIGQUIT: a JVM prints its
 *                            threads); null: none
 * @param recycling           when a serving worker is replaced without a crash
 * @param spares              warm spares kept started but held from accepting, promoted into a slot when a worker
 *                            dies; 0: none
 * @param cpus                CPUs the workers run on (at least 1): {@link #AUTO_SURGE} starts up to this many at once
 */
public record Policy(boolean requireNotify, long readyGraceMillis, long readyTimeoutMillis, long stopTimeoutMillis,
                     int surge, Backoff backoff, long healthyUptimeMillis, long probationMillis, Signal stopSignal,
                     CrashLoop crashLoop, long watchdogMillis, Signal dumpSignal, Recycling recycling, int spares,
                     int cpus) {

    /** {@code surge} value for the default rule of {@link #surgeFor}. */
    public static final int AUTO_SURGE = 0;

    public Policy {
        if (surge < 0) {
            throw new IllegalArgumentException("surge must be >= 1, or 0 for the default rule");
        }
        if (spares < 0) {
            throw new IllegalArgumentException("spares must not be negative");
        }
        if (cpus < 1) {
            throw new IllegalArgumentException("cpus must be at least 1");
        }
        if (readyGraceMillis < 0 || readyTimeoutMillis <= 0 || stopTimeoutMillis < 0 || healthyUptimeMillis < 0
                || probationMillis < 0 || watchdogMillis < 0) {
            throw new IllegalArgumentException("timeouts must not be negative");
        }
        if (stopSignal == null) {
            throw new IllegalArgumentException("a stop signal is required");
        }
        if (crashLoop == null || recycling == null) {
            throw new IllegalArgumentException("crashLoop and recycling are required (use CrashLoop.OFF, Recycling.OFF)");
        }
    }

    public Policy(boolean requireNotify, long readyGraceMillis, long readyTimeoutMillis, long stopTimeoutMillis,
                  int surge, Backoff backoff, long healthyUptimeMillis) {
        this(requireNotify, readyGraceMillis, readyTimeoutMillis, stopTimeoutMillis, surge, backoff, healthyUptimeMillis,
                0, Signal.TERM, CrashLoop.OFF, 0, null, Recycling.OFF, 0, 1);
    }

    // Copies with one feature turned on, for the core's unit tests; the product builds a Policy in config.Config.

    Policy withProbation(long millis) {
        return new Policy(requireNotify, readyGraceMillis, readyTimeoutMillis, stopTimeoutMillis, surge, backoff,
                healthyUptimeMillis, millis, stopSignal, crashLoop, watchdogMillis, dumpSignal, recycling, spares, cpus);
    }

    Policy withStopSignal(Signal signal) {
        return new Policy(requireNotify, readyGraceMillis, readyTimeoutMillis, stopTimeoutMillis, surge, backoff,
                healthyUptimeMillis, probationMillis, signal, crashLoop, watchdogMillis, dumpSignal, recycling, spares, cpus);
    }

    Policy withCrashLoop(CrashLoop c) {
        return new Policy(requireNotify, readyGraceMillis, readyTimeoutMillis, stopTimeoutMillis, surge, backoff,
                healthyUptimeMillis, probationMillis, stopSignal, c, watchdogMillis, dumpSignal, recycling, spares, cpus);
    }

    Policy withWatchdog(long millis, Signal dump) {
        return new Policy(requireNotify, readyGraceMillis, readyTimeoutMillis, stopTimeoutMillis, surge, backoff,
                healthyUptimeMillis, probationMillis, stopSignal, crashLoop, millis, dump, recycling, spares, cpus);
    }

    Policy withRecycling(Recycling r) {
        return new Policy(requireNotify, readyGraceMillis, readyTimeoutMillis, stopTimeoutMillis, surge, backoff,
                healthyUptimeMillis, probationMillis, stopSignal, crashLoop, watchdogMillis, dumpSignal, r, spares, cpus);
    }

    Policy withCpus(int n) {
        return new Policy(requireNotify, readyGraceMillis, readyTimeoutMillis, stopTimeoutMillis, surge, backoff,
                healthyUptimeMillis, probationMillis, stopSignal, crashLoop, watchdogMillis, dumpSignal, recycling, spares, n);
    }

    Policy withSpares(int n) {
        return new Policy(requireNotify, readyGraceMillis, readyTimeoutMillis, stopTimeoutMillis, surge, backoff,
                healthyUptimeMillis, probationMillis, stopSignal, crashLoop, watchdogMillis, dumpSignal, recycling, n, cpus);
    }

    /**
     * Slots replaced at once in a rolling restart (and recycles at once) for {@code size} workers: {@code surge},
     * or with {@link #AUTO_SURGE} one per CPU or a quarter of the workers, whichever is more, at most every worker
     * and at least 1 (2 CPUs: size 4 → 2, 16 → 4; 8 CPUs: 4 → 4, 64 → 16). Worker start-ups are CPU-bound, so up
     * to one per CPU they run side by side at little cost in time; each surging slot runs one worker more until its
     * old one stops, which is the memory this costs.
     */
    public int surgeFor(int size) {
        return surge != AUTO_SURGE ? surge : Math.max(1, Math.min(size, Math.max(size / 4, cpus)));
    }

    /**
     * Longest a rolling restart of {@code size} workers may legitimately take: each of ceil(size / surge) rounds
     * waits up to the ready timeout (or grace) and the probation for its new workers, plus time to spawn; then the
     * last old workers get the stop timeout. Control surfaces wait this long, and systemd is told to (EXTEND_TIMEOUT_USEC).
     * Spares are not counted as extra rounds' worth of speed: a stale spare is replaced first, and a fresh one may
     * not be warm in time; a bound that is too short would have systemd kill a healthy reload.
     */
    public long restartBudgetMillis(int size) {
        int k = surgeFor(size);
        long rounds = Math.max(1, ((long) size + k - 1) / k);
        return rounds * (Math.max(readyTimeoutMillis, readyGraceMillis) + probationMillis + 5_000) + stopTimeoutMillis + 10_000;
    }

    /**
     * The master gives up (exit {@link #EXIT_CODE}) when every slot failed {@code failures} times in a row, the
     * last {@code failures} of them within {@code windowMillis}, and none has a serving worker. One flaky slot
     * never triggers it. {@code failures == 0}: never give up.
     */
    public record CrashLoop(int failures, long windowMillis) {
        /** EX_UNAVAILABLE (sysexits.h); systemctl shows it as status=69/UNAVAILABLE. */
        public static final int EXIT_CODE = 69;
        public static final CrashLoop OFF = new CrashLoop(0, 0);

        public CrashLoop {
            if (failures < 0 || windowMillis < 0) {
                throw new IllegalArgumentException("crash loop limits must not be negative");
            }
        }

        public boolean enabled() {
            return failures > 0;
        }
    }

    /**
     * Replace a serving worker gracefully (its replacement ready first) when its RSS exceeds {@code maxRssBytes}
     * (sampled every {@code rssCheckMillis}) or it is older than {@code maxAgeMillis} plus a per-worker jitter of
     * up to a tenth of it; 0 turns a limit off.
     */
    public record Recycling(long maxRssBytes, long maxAgeMillis, long rssCheckMillis) {
        public static final Recycling OFF = new Recycling(0, 0, 5_000);

        public Recycling {
            if (maxRssBytes < 0 || maxAgeMillis < 0 || rssCheckMillis <= 0) {
                throw new IllegalArgumentException("recycling limits must not be negative");
            }
        }
    }
}
