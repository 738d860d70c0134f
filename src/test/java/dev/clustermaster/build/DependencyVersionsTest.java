package dev.clustermaster.build;

import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.InputStream;
import java.util.Properties;
import org.junit.jupiter.api.Test;

/**
 * Minimum versions of what ships in the jar, checked against the class path the tests run with (the shaded jar
 * bundles the same artifacts). Network scanners (OWASP dependency-check, OSS Index) cannot reach their databases
 * from CI here, so known advisories are pinned by hand: raise a floor when a new CVE is published.
 */
class DependencyVersionsTest {

    @Test
    void logbackHasTheKnownCvesFixed() throws Exception {
        // CVE-2024-12798 (JaninoEventEvaluator code execution) and CVE-2024-12801 (SaxEventRecorder SSRF):
        // fixed in 1.5.13; CVE-2025-11226 (code execution through conditional configuration): fixed in 1.5.19.
        atLeast("ch.qos.logback", "logback-classic", "1.5.19");
        atLeast("ch.qos.logback", "logback-core", "1.5.19");
    }

    @Test
    void slf4jMatchesTheLogbackItWasBuiltWith() throws Exception {
        // no advisory; logback 1.5.19+ is built against slf4j-api 2.0.17
        atLeast("org.slf4j", "slf4j-api", "2.0.17");
    }

    @Test
    void jnrIsTheTestedVersion() throws Exception {
        // no published advisory; the posix_spawn, socket and fd code was tested with these versions
        atLeast("com.github.jnr", "jnr-posix", "3.1.20");
        atLeast("com.github.jnr", "jnr-unixsocket", "0.38.23");
    }

    @Test
    void picocliIsCurrent() throws Exception {
        // no published advisory; 4.7.7 is the newest release at the time of writing (the man page and the
        // completion script are generated with it). Read reflectively: the constant would be compiled in.
        String version = (String) picocli.CommandLine.class.getField("VERSION").get(null);
        assertTrue(compare(version, "4.7.7") >= 0, "picocli " + version);
    }

    private static void atLeast(String group, String artifact, String minimum) throws Exception {
        String resource = "META-INF/maven/" + group + "/" + artifact + "/pom.properties";
        Properties p = new Properties();
        try (InputStream in = DependencyVersionsTest.class.getClassLoader().getResourceAsStream(resource)) {
            assertNotNull(in, resource + " on the class path");
            p.load(in);
        }
        String version = p.getProperty("version");
        assertTrue(compare(version, minimum) >= 0, artifact + " " + version + " is older than " + minimum);
    }

    /** Numeric comparison of dotted versions; a qualifier (-SNAPSHOT, .Final) is ignored. */
    static int compare(String a, String b) {
        String[] x = a.split("[.-]");
        String[] y = b.split("[.-]");
        for (int i = 0; i < Math.max(x.length, y.length); i++) {
            int c = Integer.compare(number(x, i), number(y, i));
            if (c != 0) {
                return c;
            }
        }
        return 0;
    }

    private static int number(String[] parts, int i) {
        return i < parts.length && parts[i].matches("\\d+") ? Integer.parseInt(parts[i]) : 0;
    }

    @Test
    void versionsCompareNumerically() {
        assertTrue(compare("1.5.12", "1.5.13") < 0);
        assertTrue(compare("1.5.38", "1.5.9") > 0);
        assertTrue(compare("2.0.17", "2.0.17") == 0);
        assertTrue(compare("1.6.0", "1.5.99") > 0);
    }
}
