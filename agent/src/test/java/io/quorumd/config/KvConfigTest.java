package io.quorumd.config;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The {@code kv} section: {@code max_bytes}, its default, its sizes and its refusals. */
class KvConfigTest {
    @TempDir
    Path dir;

    private String at(int line, int column, String rest) {
        return dir.resolve("quorumd.yaml") + ":" + line + ":" + column + ": " + rest;
    }

    @Test
    void defaultIs64MiBWithOrWithoutTheSection() throws Exception {
        assertEquals(64L << 20, ConfigFiles.load(dir, ConfigFiles.MINIMAL).kv().maxBytes());
        assertEquals(64L << 20, ConfigFiles.load(dir, ConfigFiles.MINIMAL + "kv:\n").kv().maxBytes());
        assertEquals(64L << 20, ConfigFiles.load(dir, ConfigFiles.SPEC_EXAMPLE).kv().maxBytes());
    }

    @Test
    void sizesInEveryUnitAndPrintedBackExactly() throws Exception {
        for (String[] c : new String[][] {{"512KiB", "524288"}, {"1GiB", "1073741824"}, {"1536KiB", "1572864"},
                {"4096", "4096"}, {"2048B", "2048"}}) {
            Config cfg = ConfigFiles.load(dir, ConfigFiles.MINIMAL + "kv:\n  max_bytes: " + c[0] + "\n");
            assertEquals(Long.parseLong(c[1]), cfg.kv().maxBytes(), c[0]);
            String yaml = ConfigPrinter.toYaml(cfg);
            assertTrue(yaml.contains("\nkv:\n  max_bytes: " + KvConfig.formatSize(cfg.kv().maxBytes()) + "\n"), yaml);
            assertEquals(cfg.kv(), ConfigFiles.load(dir, yaml).kv());
        }
        assertEquals("1536KiB", KvConfig.formatSize(1536 * 1024));
        assertEquals("1000", KvConfig.formatSize(1000));
    }

    @Test
    void badSizesAreReportedAtTheValue() throws IOException {
        assertEquals(at(11, 14, "kv.max_bytes: must be a size such as 512KiB, 64MiB or 1GiB: a size such as 512KiB, "
                + "64MiB or 1GiB (units B, KiB, MiB, GiB, TiB) (got 64MB)"),
                ConfigFiles.error(dir, ConfigFiles.MINIMAL + "kv:\n  max_bytes: 64MB\n"));
        assertEquals(at(11, 14, "kv.max_bytes: must be at least 1KiB (got 12)"),
                ConfigFiles.error(dir, ConfigFiles.MINIMAL + "kv:\n  max_bytes: 12\n"));
        assertEquals(at(11, 14, "kv.max_bytes: must be a size such as 512KiB, 64MiB or 1GiB: at most 1TiB (got 2048GiB)"),
                ConfigFiles.error(dir, ConfigFiles.MINIMAL + "kv:\n  max_bytes: 2048GiB\n"));
        assertEquals(at(11, 3, "kv.size: unknown key; expected one of max_bytes, snapshot_entries (got size)"),
                ConfigFiles.error(dir, ConfigFiles.MINIMAL + "kv:\n  size: 1MiB\n"));
        assertThrows(IllegalArgumentException.class, () -> new KvConfig(10));
    }

    @Test
    void snapshotEntriesDefaultsTo10000AndIsBoundCheckedAndPrinted() throws Exception {
        Config d = ConfigFiles.load(dir, ConfigFiles.MINIMAL);
        assertEquals(10_000, d.kv().snapshotEntries());
        assertEquals(io.quorumd.core.SnapshotPolicy.DEFAULT, d.kv().snapshotPolicy());
        Config c = ConfigFiles.load(dir, ConfigFiles.MINIMAL + "kv:\n  snapshot_entries: 20\n");
        assertEquals(20, c.kv().snapshotEntries());
        assertEquals(64L << 20, c.kv().maxBytes());
        assertEquals(new io.quorumd.core.SnapshotPolicy(20, 64L << 20), c.kv().snapshotPolicy());
        String yaml = ConfigPrinter.toYaml(c);
        assertTrue(yaml.contains("\nkv:\n  max_bytes: 64MiB\n  snapshot_entries: 20\n"), yaml);
        assertEquals(c.kv(), ConfigFiles.load(dir, yaml).kv());
        assertEquals(at(11, 21, "kv.snapshot_entries: must be a whole number of log entries from 1 to 1000000000 (got 0)"),
                ConfigFiles.error(dir, ConfigFiles.MINIMAL + "kv:\n  snapshot_entries: 0\n"));
        assertTrue(ConfigFiles.error(dir, ConfigFiles.MINIMAL + "kv:\n  snapshot_entries: lots\n")
                .contains("kv.snapshot_entries: must be a whole number"));
        assertThrows(IllegalArgumentException.class, () -> new KvConfig(1 << 20, 0));
    }

    @Test
    void theAgentsCoreRunsTheReplicatedLog() throws Exception {
        assertTrue(ConfigFiles.load(dir, ConfigFiles.MINIMAL).nodeConfig().replication());
    }
}
