package dev.clustermaster.control;

/** What a command may need from the connection it arrived on (the REPL server implements it). */
public interface CommandContext {

    /** Current number of REPL connections. */
    int connectionCount();

    /** Writes a message to every other interactive REPL connection; must not block on slow clients. */
    void broadcast(String message);

    /** For callers without connections (tests, HTTP). */
    CommandContext DETACHED = new CommandContext() {
        @Override
        public int connectionCount() {
            return 0;
        }

        @Override
        public void broadcast(String message) {
        }
    };
}
