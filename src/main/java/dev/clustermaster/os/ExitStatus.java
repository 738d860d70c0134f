package dev.clustermaster.os;

import dev.clustermaster.core.WorkerExit;

/**
 * How a child ended, decoded from a waitpid status.
 * @param exitCode 0..255 when the child exited, -1 when it was killed by a signal (or the status is unknown)
 * @param signal the killing signal, 0 when it exited (or the status is unknown)
 * @param coreDumped killed by a signal and the kernel wrote a core dump (WCOREDUMP)
 */
public record ExitStatus(int exitCode, int signal, boolean coreDumped) {

    /** Child was already reaped by someone else (waitpid said ECHILD): it is gone but how is unknown. */
    public static final ExitStatus UNKNOWN = new ExitStatus(-1, 0);

    public ExitStatus(int exitCode, int signal) {
        this(exitCode, signal, false);
    }

    /** Decodes a raw waitpid status (the Linux/glibc encoding). Stopped/continued statuses are rejected. */
    public static ExitStatus fromWaitStatus(int raw) {
        int low = raw & 0x7f;
        if (low == 0) {                       // WIFEXITED
            return new ExitStatus((raw >> 8) & 0xff, 0);
        }
        if (low != 0x7f && (raw & 0xffff) != 0xffff) {  // WIFSIGNALED (not stopped, not continued)
            return new ExitStatus(-1, low, (raw & 0x80) != 0);
        }
        throw new IllegalArgumentException("not a termination status: 0x" + Integer.toHexString(raw));
    }

    public boolean signaled() {
        return signal > 0;
    }

    /** Exited with code 0. */
    public boolean success() {
        return signal == 0 && exitCode == 0;
    }

    public boolean unknown() {
        return signal == 0 && exitCode < 0;
    }

    /** The core's typed view of this status. */
    public WorkerExit toWorkerExit() {
        if (signaled()) {
            return new WorkerExit.Killed(Signals.signal(signal), coreDumped);
        }
        return exitCode < 0 ? WorkerExit.UNKNOWN : new WorkerExit.Code(exitCode);
    }

    /** "exit 3", "killed by SIGKILL", "killed by SIGSEGV (core dumped)", "unknown status". */
    public String describe() {
        return toWorkerExit().describe();
    }
}
