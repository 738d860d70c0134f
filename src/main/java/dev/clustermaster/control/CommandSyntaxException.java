package dev.clustermaster.control;

/** A request line that cannot be understood; the message is shown to the user as is. */
public final class CommandSyntaxException extends Exception {

    private final boolean jsonOutput;

    public CommandSyntaxException(String message, boolean jsonOutput) {
        super(message);
        this.jsonOutput = jsonOutput;
    }

    /** Whether the client asked for a JSON answer, so the error can be sent in the same form. */
    public boolean jsonOutput() {
        return jsonOutput;
    }
}
