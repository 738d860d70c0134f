package dev.clustermaster.os;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The programmatic logging setup steps aside for an application's own logback.xml (a Java worker's). */
class LogSetupTest {

    @Test
    void anApplicationsLogbackXmlWins(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("logback.xml"), """
                <configuration>
                  <appender name="OUT" class="ch.qos.logback.core.ConsoleAppender">
                    <encoder><pattern>APP %level %msg%n</pattern></encoder>
                  </appender>
                  <root level="WARN"><appender-ref ref="OUT"/></root>
                </configuration>
                """);
        List<String> lines = runDemo(dir + File.pathSeparator + System.getProperty("java.class.path"));
        assertEquals("APP WARN warn line", lines.get(0), String.join("\n", lines));
        assertTrue(lines.get(1).startsWith("APP ERROR error line"), String.join("\n", lines));
    }

    private static List<String> runDemo(String classPath) throws Exception {
        return JournalLogDemo.run(classPath, false);
    }
}
