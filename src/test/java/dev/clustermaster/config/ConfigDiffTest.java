package dev.clustermaster.config;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.Map;
import java.util.OptionalInt;
import java.util.OptionalLong;

import static org.junit.jupiter.api.Assertions.assertEquals;

class ConfigDiffTest {
    @TempDir
    Path dir;

    private Config config(Map<String, String> settings) {
        return new ConfigLoader(OptionalLong::empty, 8).load(null, Map.of(), settings).runtimeDir(dir).build();
    }

    /** A reload leaves a runtime resize alone unless the config's own size changed since it was last loaded. */
    @Test
    void aReloadAppliesTheSizeOnlyWhenTheConfigsSizeChanged() {
        Config two = config(Map.of("exec", "sleep", "size", "2"));
        Config twoNewEnv = config(Map.of("exec", "sleep", "size", "2", "env.GREETING", "hi"));
        Config three = config(Map.of("exec", "sleep", "size", "3"));
        assertEquals(OptionalInt.empty(), ConfigDiff.sizeToApply(two, twoNewEnv));
        assertEquals(OptionalInt.empty(), ConfigDiff.sizeToApply(two, two));
        assertEquals(OptionalInt.of(3), ConfigDiff.sizeToApply(two, three));
        assertEquals(OptionalInt.of(2), ConfigDiff.sizeToApply(three, twoNewEnv));
        // no size= at all: the default (CPUs) is the same on every load, so a runtime size stays too
        Config unset = config(Map.of("exec", "sleep"));
        assertEquals(OptionalInt.empty(), ConfigDiff.sizeToApply(unset, config(Map.of("exec", "true"))));
    }
}
