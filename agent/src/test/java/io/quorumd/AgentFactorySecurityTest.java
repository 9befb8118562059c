package io.quorumd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quorumd.cli.FreePorts;
import io.quorumd.config.Config;
import io.quorumd.config.PeerConfig;
import io.quorumd.config.SecurityConfig;
import io.quorumd.config.TimingConfig;
import io.quorumd.security.CurveKeys;
import io.quorumd.security.KeyFile;
import io.quorumd.transport.PeerEndpoint;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The agent's start with and without {@code security.curve} (key loading, peer keys, the start-up
 * log), and on a bind address that no interface lists but this host binds.
 */
class AgentFactorySecurityTest {
    @TempDir
    Path dir;

    private Config config(SecurityConfig security, String keyA, String keyB) {
        return new Config(null, "c", "a", "127.0.0.1",
                List.of(new PeerConfig("a", "127.0.0.1", 47410, 100, keyA), new PeerConfig("b", "127.0.0.1", 47412, 100, keyB)),
                security, TimingConfig.defaults(), null, null, dir.resolve("state"), dir.resolve("control.sock"), "info");
    }

    @Test
    void curveGivesEveryPeerItsKeyAndTheTransportThisNodesPair() throws Exception {
        CurveKeys a = CurveKeys.generate();
        CurveKeys b = CurveKeys.generate();
        KeyFile.write(dir.resolve("a.key"), a);
        Config c = config(new SecurityConfig(dir.resolve("a.key_secret")), a.publicKeyZ85(), b.publicKeyZ85());
        assertEquals(a, AgentFactory.curveKeys(c));
        Map<String, PeerEndpoint> peers = AgentFactory.peerEndpoints(c);
        assertEquals(List.of("b"), List.copyOf(peers.keySet()));
        assertArrayEquals(b.publicKey(), peers.get("b").publicKey());
        assertEquals(47412, peers.get("b").port());

        Config trusted = config(null, null, null);
        assertNull(AgentFactory.curveKeys(trusted));
        assertNull(AgentFactory.peerEndpoints(trusted).get("b").publicKey());

        Config missing = config(new SecurityConfig(dir.resolve("a.key_secret")), a.publicKeyZ85(), null);
        assertEquals("peer b has no public_key, which security.curve needs",
                assertThrows(AgentFactory.StartupException.class, () -> AgentFactory.peerEndpoints(missing)).getMessage());
    }

    @Test
    void aBadKeyFileStopsTheStartWithTheFileAndTheReason() throws Exception {
        CurveKeys a = CurveKeys.generate();
        KeyFile.write(dir.resolve("a.key"), a);
        Path secret = dir.resolve("a.key_secret");
        Files.setPosixFilePermissions(secret, PosixFilePermissions.fromString("rw-rw----"));
        Config c = config(new SecurityConfig(secret), a.publicKeyZ85(), CurveKeys.generate().publicKeyZ85());
        String m = assertThrows(AgentFactory.StartupException.class, () -> AgentFactory.start(c)).getMessage();
        assertTrue(m.startsWith("security.curve.key: " + secret + " is readable by group or others (mode 0660)"), m);
        assertFalse(Files.exists(dir.resolve("state")), "refused before the state dir is touched");

        Config none = config(new SecurityConfig(dir.resolve("nope_secret")), a.publicKeyZ85(), a.publicKeyZ85());
        m = assertThrows(AgentFactory.StartupException.class, () -> AgentFactory.start(none)).getMessage();
        assertTrue(m.startsWith("security.curve.key: " + dir.resolve("nope_secret") + " does not exist"), m);

        Files.setPosixFilePermissions(secret, PosixFilePermissions.fromString("rw-------"));
        String other = CurveKeys.generate().publicKeyZ85();
        Config notMine = config(new SecurityConfig(secret), other, a.publicKeyZ85());
        assertEquals("security.curve.key: " + secret + " holds the public key " + a.publicKeyZ85()
                        + ", not this node's public_key " + other,
                assertThrows(AgentFactory.StartupException.class, () -> AgentFactory.start(notMine)).getMessage());
    }


    /** {@code quorumd run} as a real process until its log has a line containing {@code wanted}; the lines so far. */
    private List<String> runUntil(String yaml, String wanted) throws Exception {
        Path f = Files.writeString(dir.resolve("q.yaml"), yaml);
        String java = ProcessHandle.current().info().command().orElse("java");
        Process p = new ProcessBuilder(java, "-Xmx64m", "-XX:TieredStopAtLevel=1", "-cp",
                System.getProperty("java.class.path"), "io.quorumd.Main", "run", "-c", f.toString())
                .redirectErrorStream(true).start();
        List<String> lines = new ArrayList<>();
        try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            String line;
            while (System.nanoTime() < deadline && (line = r.readLine()) != null) {
                lines.add(line);
                if (line.contains(wanted)) return lines;
            }
        } finally {
            p.destroy();
            if (!p.waitFor(20, TimeUnit.SECONDS)) p.destroyForcibly().waitFor();
        }
        throw new AssertionError("no line with \"" + wanted + "\" in:\n" + String.join("\n", lines));
    }

    private String yaml(int port, String security, String publicKey) {
        return yaml("127.0.0.1", port, security, publicKey);
    }

    private String yaml(String address, int port, String security, String publicKey) {
        return "cluster: c\nnode: a\nbind: \"" + address + "\"\n" + security + "peers:\n  - {id: a, host: \"" + address
                + "\", port: " + port
                + publicKey + "}\nstate_dir: " + dir.resolve("state") + "\ncontrol_socket: " + dir.resolve("control.sock")
                + "\n";
    }

    @Test
    void theAgentLogsTrustedModeAtStartUp() throws Exception {
        List<String> lines = runUntil(yaml(FreePorts.pair(List.of()), "", ""), "became master");
        assertTrue(lines.stream().anyMatch(l -> l.contains("WARN") && l.contains(Config.TRUSTED_MODE_WARNING)),
                String.join("\n", lines));
    }

    @Test
    void withCurveTheAgentLogsItsPublicKeyAndNoWarning() throws Exception {
        CurveKeys a = CurveKeys.generate();
        KeyFile.write(dir.resolve("a.key"), a);
        Path secret = dir.resolve("a.key_secret");
        List<String> lines = runUntil(yaml(FreePorts.pair(List.of()), "security: {curve: {key: " + secret + "}}\n",
                ", public_key: \"" + a.publicKeyZ85() + "\""), "became master");
        String log = String.join("\n", lines);
        assertTrue(log.contains("security: CURVE with the key pair in " + secret + " (public key " + a.publicKeyZ85()
                + ")"), log);
        assertFalse(log.contains("trusted mode"), log);
        assertFalse(log.contains(CurveKeys.encodeZ85(a.secretKey())), log);
    }

    /** SPEC: bind accepts any address this host can bind; 127.0.0.11 is on no interface's list. */
    @Test
    void theAgentRunsOnALoopbackAddressNoInterfaceLists() throws Exception {
        List<String> lines = runUntil(yaml("127.0.0.11", FreePorts.pair(List.of()), "", ""), "became master");
        assertTrue(lines.stream().anyMatch(l -> l.contains("bind: 127.0.0.11 (lo)")), String.join("\n", lines));
    }
}
