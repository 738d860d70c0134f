package dev.clustermaster.os;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.Configurator;
import ch.qos.logback.classic.spi.ConfiguratorRank;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.ConsoleAppender;
import ch.qos.logback.core.encoder.LayoutWrappingEncoder;
import ch.qos.logback.core.spi.ContextAwareBase;

import java.util.Map;

/**
 * Logging of the master and of Java workers, set up in code (a logback {@link Configurator} found through
 * META-INF/services) instead of an XML file: parsing XML with Joran loaded some 600 classes and took a third of
 * the master's start. Root logger at {@code CM_LOG_LEVEL} (default INFO) into a {@link JournalAppender} (mode
 * {@code CM_LOG_JOURNAL}, default auto) that falls back to stdout lines made by {@link JournalLineLayout}.
 *
 * <p>A logback.xml or logback-test.xml on the class path (an application's own, for a Java worker) or
 * {@code -Dlogback.configurationFile=} wins: logback's own configurators then run as before.
 */
@ConfiguratorRank(ConfiguratorRank.CUSTOM_HIGH_PRIORITY)
public final class LogSetup extends ContextAwareBase implements Configurator {

    @Override
    public ExecutionStatus configure(LoggerContext context) {
        ClassLoader loader = LogSetup.class.getClassLoader();
        if (System.getProperty("logback.configurationFile") != null
                || (loader != null && (loader.getResource("logback-test.xml") != null
                || loader.getResource("logback.xml") != null))) {
            return ExecutionStatus.INVOKE_NEXT_IF_ANY;
        }
        configure(context, System.getenv());
        return ExecutionStatus.DO_NOT_INVOKE_NEXT_IF_ANY;
    }

    static void configure(LoggerContext context, Map<String, String> env) {
        JournalLineLayout layout = new JournalLineLayout(Journal.underJournal(env));
        layout.setContext(context);
        layout.start();
        LayoutWrappingEncoder<ILoggingEvent> encoder = new LayoutWrappingEncoder<>();
        encoder.setContext(context);
        encoder.setLayout(layout);
        encoder.start();
        ConsoleAppender<ILoggingEvent> stdout = new ConsoleAppender<>();
        stdout.setContext(context);
        stdout.setName("STDOUT");
        stdout.setEncoder(encoder);
        stdout.start();

        JournalAppender journal = new JournalAppender(env);
        journal.setContext(context);
        journal.setName("JOURNAL");
        journal.setMode(setting("CM_LOG_JOURNAL", env, "auto"));
        journal.setIdentifier("cluster-master");
        journal.addAppender(stdout);
        journal.start();

        Logger root = context.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
        root.setLevel(Level.toLevel(setting("CM_LOG_LEVEL", env, "INFO"), Level.INFO));
        root.addAppender(journal);
    }

    /** As logback's ${NAME:-default}: a system property, else the environment, else the default. */
    private static String setting(String name, Map<String, String> env, String otherwise) {
        String v = System.getProperty(name);
        if (v == null) {
            v = env.get(name);
        }
        return v == null || v.isBlank() ? otherwise : v.strip();
    }
}
