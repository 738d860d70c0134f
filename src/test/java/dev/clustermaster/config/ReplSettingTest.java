package dev.clustermaster.config;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** --repl, repl= and $CLUSTER_MASTER_REPL mean the same everywhere: a switch word or a socket path. */
class ReplSettingTest {

    @Test
    void wordsSwitchAnythingElseIsAPath() {
        assertEquals(ReplSetting.DEFAULT, ReplSetting.parse(null));
        assertEquals(ReplSetting.DEFAULT, ReplSetting.parse(" "));
        assertEquals(ReplSetting.DEFAULT, ReplSetting.parse("On"));
        assertEquals(new ReplSetting(false, null), ReplSetting.parse("false"));
        assertEquals(new ReplSetting(false, null), ReplSetting.parse("0"));
        assertEquals(new ReplSetting(true, Path.of("/tmp/x.sock")), ReplSetting.parse(" /tmp/x.sock "));
        // a number is a (relative) socket path, as documented: not a TCP port (that is repl.tcp)
        assertEquals(new ReplSetting(true, Path.of("7001")), ReplSetting.parse("7001"));
    }

    @Test
    void theDefaultSocketLivesInTheRuntimeDirectory() {
        assertEquals(Path.of("/run/app/cluster-master.sock"), ReplSetting.DEFAULT.socketIn(Path.of("/run/app")));
        assertEquals(Path.of("x.sock"), ReplSetting.parse("x.sock").socketIn(Path.of("/run/app")));
    }

    @Test
    void theEnvironmentReachesTheMastersConfig() {
        Config c = new ConfigLoader().load(null, Map.of(ReplSetting.ENV, "7001", "CM_EXEC", "true",
                "CM_RUNTIME_DIR", "/run/app"), Map.of()).build();
        assertEquals(Path.of("7001"), c.replSocket());
        Config off = new ConfigLoader().load(null, Map.of(ReplSetting.ENV, "7001", "CM_EXEC", "true"),
                Map.of("repl", "off")).build();
        assertEquals(false, off.repl());
    }
}
