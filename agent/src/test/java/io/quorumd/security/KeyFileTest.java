package io.quorumd.security;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.zeromq.ZCert;
import org.zeromq.ZConfig;

/** Key files on disk, read back by JeroMQ's own ZCert/ZConfig and by us. */
class KeyFileTest {
    @TempDir
    Path dir;

    @Test
    void writesBothFilesWithTheirModesAndJeromqReadsThem() throws Exception {
        CurveKeys keys = CurveKeys.generate();
        Path pub = dir.resolve("node.key");
        KeyFile.write(pub, keys);
        Path secret = dir.resolve("node.key_secret");
        assertEquals(secret, KeyFile.secretPath(pub));
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(secret)));
        assertEquals("rw-r--r--", PosixFilePermissions.toString(Files.getPosixFilePermissions(pub)));

        // JeroMQ's own parser reads what we wrote
        ZConfig s = ZConfig.load(secret.toString());
        assertEquals(keys.publicKeyZ85(), s.getValue("curve/public-key"));
        assertEquals(CurveKeys.encodeZ85(keys.secretKey()), s.getValue("curve/secret-key"));
        ZConfig p = ZConfig.load(pub.toString());
        assertEquals(keys.publicKeyZ85(), p.getValue("curve/public-key"));
        assertEquals(null, p.getValue("curve/secret-key"), "the public file holds no secret");
        assertFalse(Files.readString(pub).contains(CurveKeys.encodeZ85(keys.secretKey())));
        ZCert cert = new ZCert(s.getValue("curve/public-key"), s.getValue("curve/secret-key"));
        assertArrayEquals(keys.publicKey(), cert.getPublicKey());
        assertArrayEquals(keys.secretKey(), cert.getSecretKey());

        // and we read it back
        assertEquals(keys, KeyFile.readSecret(secret));
        assertArrayEquals(keys.publicKey(), KeyFile.readPublic(pub));
    }

    @Test
    void readsWhatJeromqWrites() throws Exception {
        ZCert cert = new ZCert();
        Path secret = dir.resolve("j_secret");
        cert.saveSecret(secret.toString());
        Files.setPosixFilePermissions(secret, PosixFilePermissions.fromString("rw-------"));
        CurveKeys keys = KeyFile.readSecret(secret);
        assertArrayEquals(cert.getPublicKey(), keys.publicKey());
        assertArrayEquals(cert.getSecretKey(), keys.secretKey());
        Path pub = dir.resolve("j");
        cert.savePublic(pub.toString());
        assertArrayEquals(cert.getPublicKey(), KeyFile.readPublic(pub));
    }

    @Test
    void neverOverwrites() throws Exception {
        Path pub = dir.resolve("k");
        KeyFile.write(pub, CurveKeys.generate());
        byte[] before = Files.readAllBytes(KeyFile.secretPath(pub));
        assertThrows(FileAlreadyExistsException.class, () -> KeyFile.write(pub, CurveKeys.generate()));
        assertArrayEquals(before, Files.readAllBytes(KeyFile.secretPath(pub)));

        // only the secret exists: the public file is not written either
        Path other = dir.resolve("m");
        Files.writeString(KeyFile.secretPath(other), "mine");
        FileAlreadyExistsException e = assertThrows(FileAlreadyExistsException.class,
                () -> KeyFile.write(other, CurveKeys.generate()));
        assertEquals(KeyFile.secretPath(other).toString(), e.getFile());
        assertFalse(Files.exists(other));
        assertEquals("mine", Files.readString(KeyFile.secretPath(other)));

        // a dangling symbolic link counts as existing
        Path linked = dir.resolve("l");
        Files.createSymbolicLink(linked, dir.resolve("nowhere"));
        assertThrows(FileAlreadyExistsException.class, () -> KeyFile.write(linked, CurveKeys.generate()));
        assertFalse(Files.exists(dir.resolve("nowhere")));
        assertFalse(Files.exists(KeyFile.secretPath(linked)));
    }

    private Path secretFile(String text, String mode) throws Exception {
        Path f = dir.resolve("x_secret");
        Files.deleteIfExists(f);
        Files.writeString(f, text);
        Files.setPosixFilePermissions(f, PosixFilePermissions.fromString(mode));
        return f;
    }

    private String refusal(Path f) {
        return assertThrows(KeyFileException.class, () -> KeyFile.readSecret(f)).getMessage();
    }

    @Test
    void refusesWhatIsNotAUsableKeyPairAndNeverQuotesTheSecret() throws Exception {
        CurveKeys keys = CurveKeys.generate();
        String pub = keys.publicKeyZ85();
        String sec = CurveKeys.encodeZ85(keys.secretKey());
        String good = "curve\n    public-key = \"" + pub + "\"\n    secret-key = \"" + sec + "\"\n";
        assertEquals(keys, KeyFile.readSecret(secretFile(good, "rw-------")));
        assertEquals(keys, KeyFile.readSecret(secretFile(good, "r--------")));

        assertEquals("is readable by group or others (mode 0640); it holds this node's secret key: chmod 600 it, and"
                + " make a new key pair if others may have read it", refusal(secretFile(good, "rw-r-----")));
        assertTrue(refusal(secretFile(good, "rw----r--")).startsWith("is readable by group or others (mode 0604)"));
        assertTrue(refusal(dir.resolve("none")).startsWith("does not exist; write it with quorumd keygen --out PATH"));
        assertEquals("is a directory, not a key file", refusal(dir));
        assertEquals("has no secret-key in its curve section: it is a public certificate; security.curve.key names"
                + " the _secret file that quorumd keygen wrote",
                refusal(secretFile("curve\n    public-key = \"" + pub + "\"\n", "rw-------")));
        assertEquals("is not a CURVE certificate: it has no curve section",
                refusal(secretFile("metadata\n    name = \"x\"\n", "rw-------")));
        assertEquals("is not a CURVE certificate: line 1: not a name", refusal(secretFile("hello: world\n", "rw-------")));
        assertEquals("is not a CURVE certificate: line 3: secret-key must be 40 Z85 characters",
                refusal(secretFile("curve\n    public-key = \"" + pub + "\"\n    secret-key = \"" + sec.substring(1)
                        + "\"\n", "rw-------")));
        assertEquals("is not a CURVE certificate: line 2: secret-key: a quoted value is not closed",
                refusal(secretFile("curve\n    secret-key = \"" + sec + "\n", "rw-------")));
        assertEquals("is not a CURVE certificate: line 2: indent is not a multiple of four spaces",
                refusal(secretFile("curve\n  secret-key = \"" + sec + "\"\n", "rw-------")));
        assertEquals("is not a key file: not UTF-8 text",
                refusal(Files.write(secretFile("", "rw-------"), new byte[] {(byte) 0xC3, '(', '\n'})));
        Path big = secretFile("#".repeat(KeyFile.MAX_BYTES + 1), "rw-------");
        assertEquals("is not a key file: larger than 64 KiB", refusal(big));

        // a secret key from another pair: the file was edited or mixed up
        String other = CurveKeys.encodeZ85(CurveKeys.generate().secretKey());
        String mixed = refusal(secretFile("curve\n    public-key = \"" + pub + "\"\n    secret-key = \"" + other
                + "\"\n", "rw-------"));
        assertEquals("its secret-key does not belong to its public-key (line 2); the file was edited or mixed up:"
                + " make a new key pair with quorumd keygen", mixed);
        for (String m : new String[] {mixed, refusal(secretFile(good, "rw-r--r--"))}) {
            assertFalse(m.contains(sec) || m.contains(other), m);
        }
    }

    @Test
    void theSamePairReadAgainIsNotDerivedAgainButAnyOtherPairIs() throws Exception {
        CurveKeys keys = CurveKeys.generate();
        String pub = keys.publicKeyZ85();
        String sec = CurveKeys.encodeZ85(keys.secretKey());
        Path good = secretFile("curve\n    public-key = \"" + pub + "\"\n    secret-key = \"" + sec + "\"\n", "rw-------");
        int before = KeyFile.DERIVATIONS.get();
        assertEquals(keys, KeyFile.readSecret(good));
        // the agent's start: the config check, then the transport's set-up read the same file
        assertEquals(keys, KeyFile.readSecret(good));
        assertEquals(before + 1, KeyFile.DERIVATIONS.get(), "the same key pair was derived twice");
        // right after it: the same public key with another secret key is derived, and refused
        String other = CurveKeys.encodeZ85(CurveKeys.generate().secretKey());
        assertEquals("its secret-key does not belong to its public-key (line 2); the file was edited or mixed up:"
                + " make a new key pair with quorumd keygen", refusal(secretFile("curve\n    public-key = \"" + pub
                + "\"\n    secret-key = \"" + other + "\"\n", "rw-------")));
        // and the file's other checks still run on every read
        Files.setPosixFilePermissions(good, PosixFilePermissions.fromString("rw-r--r--"));
        assertTrue(refusal(good).startsWith("is readable by group or others (mode 0644)"));
        assertEquals(before + 2, KeyFile.DERIVATIONS.get());
    }

    @Test
    void anUnreadableFile() throws Exception {
        CurveKeys keys = CurveKeys.generate();
        KeyFile.write(dir.resolve("u"), keys);
        Path secret = KeyFile.secretPath(dir.resolve("u"));
        Files.setPosixFilePermissions(secret, PosixFilePermissions.fromString("-w-------"));
        // root reads any file; procfs still refuses it a write-only file
        Path unreadable = Files.isReadable(secret) ? Path.of("/proc/sys/vm/compact_memory") : secret;
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.exists(unreadable), "no unreadable file for this user");
        assertEquals("cannot be read: permission denied", refusal(unreadable));
    }

    @Test
    void theModeIsWrittenInOctal() {
        assertEquals("0600", KeyFile.mode(PosixFilePermissions.fromString("rw-------")));
        assertEquals("0644", KeyFile.mode(PosixFilePermissions.fromString("rw-r--r--")));
        assertEquals("0751", KeyFile.mode(PosixFilePermissions.fromString("rwxr-x--x")));
    }

    @Test
    void theTextIsJeromqsOwn() throws Exception {
        CurveKeys keys = CurveKeys.generate();
        Path pub = dir.resolve("t");
        KeyFile.write(pub, keys);
        String text = Files.readString(KeyFile.secretPath(pub), StandardCharsets.UTF_8);
        assertTrue(text.contains("\ncurve\n    secret-key = \"" + CurveKeys.encodeZ85(keys.secretKey())
                + "\"\n    public-key = \"" + keys.publicKeyZ85() + "\"\n"), text);
    }
}
