package io.quorumd.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quorumd.command.RestartPolicy;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The settings' records and the small parsers and printers, at their edges (issue 16's PIT run). */
class ConfigValuesTest {
    private static Config config(String bind) {
        return new Config(null, "c", "a", bind, List.of(new PeerConfig("a", "127.0.0.1", 40001, 100, null)), null,
                TimingConfig.defaults(), null, null, Path.of("/var/lib/q"), Path.of("/run/q.sock"), "info");
    }

    @Test
    void bindAutoAndTheWithCopies() {
        Config c = config("auto");
        assertTrue(c.bindAuto());
        assertFalse(config("10.0.0.1").bindAuto());

        MetricsConfig m = new MetricsConfig("127.0.0.1", 9851);
        Config withM = c.withMetrics(m);
        assertEquals(m, withM.metrics());
        assertEquals(c, withM.withMetrics(null));

        SelfFenceConfig f = new SelfFenceConfig(SelfFenceConfig.Mode.REQUIRED, Path.of("/dev/watchdog1"));
        Config withF = c.withSelfFence(f);
        assertEquals(f, withF.selfFence());
        assertEquals(c, withF.withSelfFence(SelfFenceConfig.off()));

        KvConfig k = new KvConfig(4096, 7);
        Config withK = c.withKv(k);
        assertEquals(k, withK.kv());
        assertNotEquals(c, withK);
        assertEquals(c, withK.withKv(KvConfig.defaults()));
    }

    @Test
    void kvLimitsAtTheirEdges() {
        assertEquals(new KvConfig(1024, 1), new KvConfig(1024, 1));
        assertEquals(1L << 40, new KvConfig(1L << 40, 1_000_000_000).maxBytes());
        assertEquals("kv.max_bytes must be from 1KiB to 1TiB, got 1023 bytes",
                assertThrows(IllegalArgumentException.class, () -> new KvConfig(1023, 1)).getMessage());
        assertEquals("kv.max_bytes must be from 1KiB to 1TiB, got 1099511627777 bytes",
                assertThrows(IllegalArgumentException.class, () -> new KvConfig((1L << 40) + 1, 1)).getMessage());
        assertEquals("kv.snapshot_entries must be from 1 to 1000000000, got 0",
                assertThrows(IllegalArgumentException.class, () -> new KvConfig(1024, 0)).getMessage());
        assertEquals("kv.snapshot_entries must be from 1 to 1000000000, got 1000000001",
                assertThrows(IllegalArgumentException.class, () -> new KvConfig(1024, 1_000_000_001)).getMessage());
        assertEquals(5000, new KvConfig(5000).limits().maxBytes());
    }

    @Test
    void sizesAtTheirEdges() {
        assertEquals(1L << 40, KvConfig.parseSize("1TiB"));
        assertEquals(1L << 40, KvConfig.parseSize("1024GiB"));
        assertEquals("at most 1TiB", assertThrows(IllegalArgumentException.class,
                () -> KvConfig.parseSize("1025GiB")).getMessage());
        assertEquals("1KiB", KvConfig.formatSize(1024));
        assertEquals("1023", KvConfig.formatSize(1023));
        assertEquals("1TiB", KvConfig.formatSize(1L << 40));
    }

    @Test
    void metricsPortsFromOneTo65535() {
        assertEquals("127.0.0.1:1", new MetricsConfig("127.0.0.1", 1).listen());
        assertEquals("[::1]:65535", new MetricsConfig("::1", 65535).listen());
        assertEquals("port out of 1..65535: 0",
                assertThrows(IllegalArgumentException.class, () -> new MetricsConfig("::1", 0)).getMessage());
        assertEquals("port out of 1..65535: 65536",
                assertThrows(IllegalArgumentException.class, () -> new MetricsConfig("::1", 65536)).getMessage());
    }

    @Test
    void votesGoToThePortAboveTheKeepAlives() {
        assertEquals(40002, new PeerConfig("a", "h", 40001, 100, null).requestPort());
    }

    @Test
    void aShellCommandIsShWithDashC() {
        CommandConfig c = CommandConfig.shell("exec my-service");
        assertEquals(new CommandConfig(List.of("/bin/sh", "-c", "exec my-service"), true, null, Map.of(), Signal.TERM,
                Duration.ofSeconds(5), RestartPolicy.ON_FAILURE, 5, Duration.ofSeconds(60)), c);
        assertEquals("exec my-service", c.script());
    }

    @Test
    void quotingEscapesExactlyTheCharactersAReaderWouldMangle() {
        assertEquals("\"\\u001F ~\\u007F\\u009F\u00a0\"", ConfigPrinter.quoted("\u001f ~\u007f\u009f\u00a0"));
        // lone surrogates are escaped; the characters either side of them are not
        assertEquals("\"\ud7ff\\uD800x\\uDFFF\ue000\"", ConfigPrinter.quoted("\ud7ff\ud800x\udfff\ue000"));
    }

    @Test
    void aValueIsClippedToOneLineOfEightyCharacters() {
        assertEquals("...", ValueReader.clip("\nabc"));
        assertEquals("ab...", ValueReader.clip("ab \ncd"));
        String eighty = "x".repeat(80);
        assertEquals(eighty, ValueReader.clip(eighty));
        assertEquals("x".repeat(77) + "...", ValueReader.clip(eighty + "y"));
    }

    @Test
    void durationsAtTheirEdges() {
        assertEquals(Duration.ofMillis(1), Durations.parse("000000000001ms"));
        assertEquals("must be at most 8760h",
                assertThrows(IllegalArgumentException.class, () -> Durations.parse("0000000000001ms")).getMessage());
        assertEquals("whole numbers only: write 1001ms",
                assertThrows(IllegalArgumentException.class, () -> Durations.parse("1.001s")).getMessage());
        assertEquals("whole numbers only: write 8760h",
                assertThrows(IllegalArgumentException.class, () -> Durations.parse("8760.0h")).getMessage());
        assertEquals("whole numbers only, e.g. 250ms, 2s or 1m30s",
                assertThrows(IllegalArgumentException.class, () -> Durations.parse("8760.5h")).getMessage());
    }
}
