package io.quorumd.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.quorumd.security.CurveKeys;
import io.quorumd.security.KeyFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code security.curve} and {@code peers[].public_key}: loading, checking (real key files) and printing. */
class SecurityConfigTest {
    @TempDir
    Path dir;

    private Path routes;
    private CurveKeys a;
    private CurveKeys b;
    private Path keyA;

    @BeforeEach
    void keys() throws Exception {
        routes = BindResolverTest.routes(dir, BindResolverTest.defaultVia("lo", "0100007F", 0));
        a = CurveKeys.generate();
        b = CurveKeys.generate();
        KeyFile.write(dir.resolve("a.key"), a);
        KeyFile.write(dir.resolve("b.key"), b);
        keyA = dir.resolve("a.key_secret");
    }

    /**
     * Line 3 {@code security:}, 4 {@code curve:}, 5 {@code key: KEY} (value at col 10); peers at
     * lines 7 and 11 (mappings at col 5), their public keys at lines 10 and 14 (col 17).
     */
    private String text(String securityKey, String publicKeyA, String publicKeyB) {
        return "cluster: c1\n"
                + "node: a\n"
                + (securityKey == null ? "# no security\n#\n#\n" : "security:\n  curve:\n    key: " + securityKey + "\n")
                + "peers:\n"
                + "  - id: a\n"
                + "    host: 127.0.0.1\n"
                + "    port: 40001\n"
                + (publicKeyA == null ? "    # no key\n" : "    public_key: " + publicKeyA + "\n")
                + "  - id: b\n"
                + "    host: 127.0.0.1\n"
                + "    port: 40003\n"
                + (publicKeyB == null ? "    # no key\n" : "    public_key: " + publicKeyB + "\n")
                + "state_dir: " + dir.resolve("state") + "\n"
                + "bind: 127.0.0.1\n";
    }

    private static String q(CurveKeys k) {
        return "\"" + k.publicKeyZ85() + "\"";
    }

    private String at(int line, int column, String rest) {
        return dir.resolve("quorumd.yaml") + ":" + line + ":" + column + ": " + rest;
    }

    private List<String> checked(String text) throws Exception {
        Path f = ConfigFiles.write(dir, text);
        return ConfigChecker.problems(ConfigLoader.loadWithPositions(f), routes).stream().map(ConfigProblem::toString)
                .toList();
    }

    @Test
    void aCurveClusterLoadsAndPasses() throws Exception {
        Config c = ConfigFiles.load(dir, text(keyA.toString(), q(a), q(b)));
        assertEquals(new SecurityConfig(keyA), c.security());
        assertFalse(c.trustedMode());
        assertEquals(a.publicKeyZ85(), c.self().publicKey());
        assertEquals(b.publicKeyZ85(), c.others().get(0).publicKey());
        assertEquals(List.of(), checked(text(keyA.toString(), q(a), q(b))));
        // and without security at all: trusted mode, no keys
        Config trusted = ConfigFiles.load(dir, text(null, null, null));
        assertNull(trusted.security());
        assertTrue(trusted.trustedMode());
        assertNull(trusted.self().publicKey());
    }

    @Test
    void aPublicKeyMustBeFortyZ85Characters() throws Exception {
        String short39 = b.publicKeyZ85().substring(1);
        String what = "must be a CURVE public key: 40 Z85 characters, as quorumd keygen prints it (quote it: Z85 has"
                + " characters YAML reads specially)";
        assertEquals(at(14, 17, "peers[1].public_key: " + what + " (got \"" + short39 + "\")"),
                ConfigFiles.error(dir, text(keyA.toString(), q(a), "\"" + short39 + "\"")));
        // 40 characters, but a space is not in Z85's alphabet
        String spaced = "\"" + b.publicKeyZ85().substring(0, 39) + " \"";
        assertEquals(at(14, 17, "peers[1].public_key: " + what + " (got " + spaced + ")"),
                ConfigFiles.error(dir, text(keyA.toString(), q(a), spaced)));
        assertEquals(at(10, 17, "peers[0].public_key: must be a CURVE public key: 40 Z85 characters, as quorumd"
                + " keygen prints it (got a list)"), ConfigFiles.error(dir, text(keyA.toString(), "[x]", q(b))));
    }

    @Test
    void curveNeedsEveryPeersPublicKey() throws Exception {
        assertEquals(at(11, 5, "peers[1].public_key: required with security.curve: every peer's CURVE public key"
                + " (quorumd keygen prints it on the peer's host)"),
                ConfigFiles.error(dir, text(keyA.toString(), q(a), null)));
    }

    @Test
    void aPublicKeyWithoutCurveIsRefused() throws Exception {
        String what = "is set but there is no security.curve, so no key would be checked: add security: {curve: {key:"
                + " PATH_secret}} or remove every public_key";
        assertEquals(at(10, 17, "peers[0].public_key: " + what + " (got " + q(a) + ")") + "\n"
                        + at(14, 17, "peers[1].public_key: " + what + " (got " + q(b) + ")"),
                ConfigFiles.error(dir, text(null, q(a), q(b))));
    }

    @Test
    void theSecuritySectionIsStrict() throws Exception {
        String peers = text(null, q(a), q(b)).substring(text(null, q(a), q(b)).indexOf("peers:"));
        String head = "cluster: c1\nnode: a\n";
        assertEquals(at(5, 5, "security.curve.mode: unknown key; expected one of key (got mode)"),
                ConfigFiles.error(dir, head + "security:\n  curve:\n    mode: x\n    key: " + keyA + "\n" + peers));
        assertEquals(at(6, 3, "security.tls: unknown key; expected one of curve (got tls)"),
                ConfigFiles.error(dir, head + "security:\n  curve:\n    key: " + keyA + "\n  tls: {}\n" + peers));
        assertEquals(at(3, 10, "security: must be a mapping with curve: {key: PATH}; leave security out for trusted"
                + " mode (got nothing)"), ConfigFiles.error(dir, head + "security:\n" + peers));
        assertEquals(at(3, 11, "security.curve: required key is missing"),
                ConfigFiles.error(dir, head + "security: {}\n" + peers));
        assertEquals(at(3, 19, "security.curve.key: required key is missing"),
                ConfigFiles.error(dir, head + "security: {curve: {}}\n" + peers));
        assertEquals(at(3, 25, "security.curve.key: must be an absolute path to this node's key pair (the"
                + " PATH_secret file of quorumd keygen --out PATH) (got a.key_secret)"),
                ConfigFiles.error(dir, head + "security: {curve: {key: a.key_secret}}\n" + peers));
    }

    @Test
    void aKeyFileThatIsMissingOrADirectory() throws Exception {
        Path missing = dir.resolve("none_secret");
        assertEquals(List.of(at(5, 10, "security.curve.key: does not exist; write it with quorumd keygen --out PATH"
                        + " (it makes PATH and PATH_secret) (got " + missing + ")")),
                checked(text(missing.toString(), q(a), q(b))));
        assertEquals(List.of(at(5, 10, "security.curve.key: is a directory, not a key file (got " + dir + ")")),
                checked(text(dir.toString(), q(a), q(b))));
    }

    @Test
    void aKeyFileReadableByGroupOrOthers() throws Exception {
        Files.setPosixFilePermissions(keyA, PosixFilePermissions.fromString("rw-r--r--"));
        assertEquals(List.of(at(5, 10, "security.curve.key: is readable by group or others (mode 0644); it holds"
                        + " this node's secret key: chmod 600 it, and make a new key pair if others may have read it"
                        + " (got " + keyA + ")")),
                checked(text(keyA.toString(), q(a), q(b))));
        Files.setPosixFilePermissions(keyA, PosixFilePermissions.fromString("rw--w----"));
        assertEquals(List.of(), checked(text(keyA.toString(), q(a), q(b))), "group may not read; write is not reading");
    }

    @Test
    void anUnreadableKeyFile() throws Exception {
        Files.setPosixFilePermissions(keyA, PosixFilePermissions.fromString("-w-------"));
        // root reads any file it owns; procfs still refuses root a write-only file
        Path unreadable = Files.isReadable(keyA) ? Path.of("/proc/sys/vm/compact_memory") : keyA;
        assumeTrue(Files.exists(unreadable), "no file this user cannot read");
        assertEquals(List.of(at(5, 10, "security.curve.key: cannot be read: permission denied (got " + unreadable + ")")),
                checked(text(unreadable.toString(), q(a), q(b))));
    }

    @Test
    void aMalformedKeyFileOrAPublicOne() throws Exception {
        Path bad = Files.writeString(dir.resolve("bad_secret"), "curve\n    secret-key = \"short\"\n");
        Files.setPosixFilePermissions(bad, PosixFilePermissions.fromString("rw-------"));
        assertEquals(List.of(at(5, 10, "security.curve.key: is not a CURVE certificate: line 2: secret-key must be 40"
                        + " Z85 characters (got " + bad + ")")),
                checked(text(bad.toString(), q(a), q(b))));
        Path pub = dir.resolve("a.key");
        assertEquals(List.of(at(5, 10, "security.curve.key: has no secret-key in its curve section: it is a public"
                        + " certificate; security.curve.key names the _secret file that quorumd keygen wrote (got "
                        + pub + ")")),
                checked(text(pub.toString(), q(a), q(b))));
    }

    @Test
    void aKeyFileOfAnotherNode() throws Exception {
        Path keyB = dir.resolve("b.key_secret");
        List<String> problems = checked(text(keyB.toString(), q(a), q(b)));
        assertEquals(List.of(at(5, 10, "security.curve.key: holds the public key " + b.publicKeyZ85() + ", not this"
                        + " node's peers[0].public_key " + a.publicKeyZ85() + "; the peers would refuse this node: name"
                        + " the right key file, or put its public key in the peer list of every node (got " + keyB + ")")),
                problems);
        String secretB = CurveKeys.encodeZ85(b.secretKey());
        assertFalse(problems.get(0).contains(secretB));
    }

    @Test
    void theSettingsPrintAndLoadBack() throws Exception {
        Config c = ConfigFiles.load(dir, text(keyA.toString(), q(a), q(b)));
        String yaml = ConfigPrinter.toYaml(c);
        assertTrue(yaml.contains("\nsecurity:\n  curve:\n    key: " + keyA + "\npeers:\n"), yaml);
        assertTrue(yaml.contains("\n    priority: 100\n    public_key: " + q(a) + "\n"), yaml);
        assertFalse(yaml.contains(CurveKeys.encodeZ85(a.secretKey())), yaml);
        Path printed = Files.writeString(dir.resolve("printed.yaml"), yaml);
        assertEquals(c.withSource(printed), ConfigLoader.load(printed));

        Config trusted = ConfigFiles.load(dir, text(null, null, null));
        assertTrue(ConfigPrinter.toYaml(trusted).contains("\n# security: none; trusted mode: any process on a peer's"
                + " host can speak for that peer; use CURVE (quorumd keygen)\npeers:\n"), ConfigPrinter.toYaml(trusted));
    }
}
