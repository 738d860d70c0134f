package dev.clustermaster.core;

/**
 * How a worker's main process ended, decoded at the os edge ({@code os.ExitStatus}) from its wait status.
 * {@link #describe()} is the one wording of it, in logs and replies alike.
 */
public sealed interface WorkerExit {

    /** Someone else reaped it (waitpid said ECHILD): gone, but how is not known. */
    WorkerExit UNKNOWN = new Unknown();

    /** "exit 3", "killed by SIGKILL", "killed by SIGSEGV (core dumped)", "unknown status". */
    String describe();

    /** It called exit(code). */
    record Code(int code) implements WorkerExit {
        public Code {
            if (code < 0 || code > 255) {
                throw new IllegalArgumentException("an exit code is 0..255, got " + code);
            }
        }

        @Override
        public String describe() {
            return "exit " + code;
        }
    }

    /** A signal ended it. */
    record Killed(Signal signal, boolean coreDumped) implements WorkerExit {
        public Killed {
            if (signal == null) {
                throw new IllegalArgumentException("a killing signal is required");
            }
        }

        @Override
        public String describe() {
            return "killed by " + signal.label() + (coreDumped ? " (core dumped)" : "");
        }
    }

    record Unknown() implements WorkerExit {
        @Override
        public String describe() {
            return "unknown status";
        }
    }
}
