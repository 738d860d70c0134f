package dev.clustermaster.it;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

/** A {@code cluster-master} launcher in DIR/bin, as the package installs one, for tests that run documented commands. */
final class TestLauncher {
    private TestLauncher() {
    }

    /** Writes DIR/bin/cluster-master (the built fat jar when there is one, else the test class path); returns DIR/bin. */
    static Path install(Path dir) throws IOException {
        Path bin = Files.createDirectories(dir.resolve("bin"));
        String jar = System.getProperty("cm.jar");
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        String target = jar != null && Files.exists(Path.of(jar)) ? "-jar '" + jar + "'"
                : "-cp '" + System.getProperty("java.class.path") + "' dev.clustermaster.cli.Main";
        Path script = bin.resolve("cluster-master");
        Files.writeString(script, "#!/bin/sh\nexec '" + java + "' -XX:TieredStopAtLevel=1 " + target + " \"$@\"\n");
        Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwxr-xr-x"));
        return bin;
    }
}
