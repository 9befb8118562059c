package io.quorumd.security;

import com.neilalexander.jnacl.crypto.curve25519;
import java.io.IOException;
import java.io.InputStream;
import java.io.StringWriter;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import org.zeromq.ZCert;

/**
 * CURVE key files in ZeroMQ's certificate format, the one czmq's {@code zcert} and JeroMQ's
 * {@link ZCert} read and write: ZPL text with a {@code curve} section holding {@code public-key}
 * and (in the secret file) {@code secret-key}, each 40 Z85 characters. As in czmq, {@code PATH}
 * holds the public key only and {@code PATH_secret} both.
 *
 * <p>The text is JeroMQ's own ({@link ZCert#savePublic(java.io.Writer)},
 * {@link ZCert#saveSecret(java.io.Writer)}); the files are created here, because ZCert's
 * {@code saveSecret(String)} leaves the secret file with the umask's mode: the secret file is
 * created with mode 0600 (never widened by a later chmod), and neither file is ever overwritten.
 */
public final class KeyFile {
    /** czmq's convention: {@code PATH} is the public certificate, {@code PATH_secret} the key pair. */
    public static final String SECRET_SUFFIX = "_secret";
    /** A key file is a few hundred bytes; anything past this is not one. */
    static final int MAX_BYTES = 64 * 1024;

    private static final Set<PosixFilePermission> SECRET_MODE = PosixFilePermissions.fromString("rw-------");
    private static final Set<PosixFilePermission> PUBLIC_MODE = PosixFilePermissions.fromString("rw-r--r--");

    private KeyFile() {}

    /**
     * {@code PATH_secret}: where the key pair of the public certificate {@code publicPath} is.
     *
     * @throws IllegalArgumentException when {@code publicPath} names no file ({@code /})
     */
    public static Path secretPath(Path publicPath) {
        Path name = publicPath.getFileName();
        if (name == null) throw new IllegalArgumentException(publicPath + " names no file");
        return publicPath.resolveSibling(name + SECRET_SUFFIX);
    }

    /**
     * Writes {@code publicPath} (the public key, mode 0644) and {@link #secretPath} (both keys,
     * created with mode 0600). Nothing is overwritten: when either file exists (a dangling
     * symbolic link included) neither is written.
     *
     * @throws FileAlreadyExistsException naming the file that exists
     * @throws IOException                when a file cannot be created or written; a secret file
     *                                    written before the failure is removed again
     */
    public static void write(Path publicPath, CurveKeys keys) throws IOException {
        Path secretPath = secretPath(publicPath);
        for (Path p : new Path[] {publicPath, secretPath}) {
            if (Files.exists(p, LinkOption.NOFOLLOW_LINKS)) throw new FileAlreadyExistsException(p.toString());
        }
        ZCert cert = new ZCert(keys.publicKey(), keys.secretKey());
        StringWriter secretText = new StringWriter();
        cert.saveSecret(secretText);
        StringWriter publicText = new StringWriter();
        cert.savePublic(publicText);
        create(secretPath, secretText.toString(), SECRET_MODE);
        try {
            create(publicPath, publicText.toString(), PUBLIC_MODE);
        } catch (IOException | RuntimeException e) {
            Files.deleteIfExists(secretPath);
            throw e;
        }
    }

    /** Creates {@code file} with {@code mode} (O_CREAT|O_EXCL: never an existing file or link), writes and syncs it. */
    private static void create(Path file, String text, Set<PosixFilePermission> mode) throws IOException {
        try (FileChannel ch = FileChannel.open(file, Set.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE),
                PosixFilePermissions.asFileAttribute(mode))) {
            ByteBuffer b = ByteBuffer.wrap(text.getBytes(StandardCharsets.UTF_8));
            while (b.hasRemaining()) ch.write(b);
            ch.force(true);
        }
    }

    /**
     * This node's key pair from a {@code PATH_secret} file, checked: a regular file in the
     * certificate format, with a secret key (a public certificate is named as such), not readable
     * by group or others, its secret key the one of its public key.
     *
     * @throws KeyFileException saying what is wrong, never with the secret key or a line of the file
     */
    public static CurveKeys readSecret(Path file) throws KeyFileException {
        PosixFileAttributes attrs = attributes(file);
        Map<String, Key> curve = parse(file, read(file));
        Key pub = curve.get("public-key");
        Key sec = curve.get("secret-key");
        if (sec == null) {
            throw new KeyFileException(file, "has no secret-key in its curve section: it is a public certificate;"
                    + " security.curve.key names the " + SECRET_SUFFIX + " file that quorumd keygen wrote");
        }
        Set<PosixFilePermission> perms = attrs.permissions();
        if (perms.contains(PosixFilePermission.GROUP_READ) || perms.contains(PosixFilePermission.OTHERS_READ)) {
            throw new KeyFileException(file, "is readable by group or others (mode " + mode(perms)
                    + "); it holds this node's secret key: chmod 600 it, and make a new key pair if others"
                    + " may have read it");
        }
        if (pub == null) throw new KeyFileException(file, "has no public-key in its curve section");
        CurveKeys keys = new CurveKeys(pub.bytes, sec.bytes);
        if (!keys.equals(verified)) {
            byte[] derived = new byte[32];
            curve25519.crypto_scalarmult_base(derived, sec.bytes);
            DERIVATIONS.incrementAndGet();
            if (!Arrays.equals(derived, pub.bytes)) {
                throw new KeyFileException(file, "its secret-key does not belong to its public-key (line " + pub.line
                        + "); the file was edited or mixed up: make a new key pair with quorumd keygen");
            }
            verified = keys;
        }
        return keys;
    }

    /**
     * The last key pair whose public key was derived from its secret key and matched: the agent's
     * start reads its key file twice (the config check, then the transport's set-up), and the
     * derivation, a Curve25519 multiplication in a cold JVM, cost tens of ms of the start each time.
     * A pair that is not exactly this one is derived and checked again.
     */
    private static volatile CurveKeys verified;
    /** How many times {@link #readSecret} derived a public key (tests). */
    static final AtomicInteger DERIVATIONS = new AtomicInteger();

    /**
     * The public key of a certificate, public or secret (the {@code public-key} of its
     * {@code curve} section); the file's mode is not checked.
     */
    public static byte[] readPublic(Path file) throws KeyFileException {
        attributes(file);
        Key pub = parse(file, read(file)).get("public-key");
        if (pub == null) throw new KeyFileException(file, "has no public-key in its curve section");
        return pub.bytes.clone();
    }

    private static PosixFileAttributes attributes(Path file) throws KeyFileException {
        PosixFileAttributes attrs;
        try {
            attrs = Files.readAttributes(file, PosixFileAttributes.class);
        } catch (NoSuchFileException e) {
            throw new KeyFileException(file, "does not exist; write it with quorumd keygen --out PATH (it makes"
                    + " PATH and PATH" + SECRET_SUFFIX + ")");
        } catch (IOException e) {
            throw new KeyFileException(file, "cannot be read: " + reason(e));
        }
        if (attrs.isDirectory()) throw new KeyFileException(file, "is a directory, not a key file");
        if (!attrs.isRegularFile()) throw new KeyFileException(file, "is not a regular file");
        return attrs;
    }

    private static String read(Path file) throws KeyFileException {
        byte[] bytes;
        try (InputStream in = Files.newInputStream(file)) {
            bytes = in.readNBytes(MAX_BYTES + 1);
        } catch (IOException e) {
            throw new KeyFileException(file, "cannot be read: " + reason(e));
        }
        if (bytes.length > MAX_BYTES) {
            throw new KeyFileException(file, "is not a key file: larger than " + (MAX_BYTES / 1024) + " KiB");
        }
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            throw new KeyFileException(file, "is not a key file: not UTF-8 text");
        }
    }

    private record Key(byte[] bytes, int line) {}

    /**
     * The {@code curve} section of a ZPL certificate (czmq's zconfig syntax: a name per line,
     * four spaces of indent per level, {@code name = "value"}, {@code #} comments). Problems name
     * the line but never quote it: it may hold the secret key.
     */
    private static Map<String, Key> parse(Path file, String text) throws KeyFileException {
        Map<String, Key> curve = new HashMap<>();
        String section = null;
        boolean sawCurve = false;
        String[] lines = text.split("\n", -1);
        for (int i = 0; i < lines.length; i++) {
            int n = i + 1;
            String line = lines[i].endsWith("\r") ? lines[i].substring(0, lines[i].length() - 1) : lines[i];
            String body = line.strip();
            if (body.isEmpty() || body.startsWith("#")) continue;
            int indent = 0;
            while (indent < line.length() && line.charAt(indent) == ' ') indent++;
            if (line.charAt(indent) == '\t' || indent % 4 != 0) {
                throw malformed(file, n, "indent is not a multiple of four spaces");
            }
            int eq = body.indexOf('=');
            String name = (eq < 0 ? body : body.substring(0, eq)).strip();
            if (name.isEmpty() || !name.matches("[A-Za-z0-9$_@.&+/-]+")) throw malformed(file, n, "not a name");
            if (indent == 0) {
                section = name;
                if (section.equals("curve")) {
                    if (sawCurve) throw malformed(file, n, "a second curve section");
                    sawCurve = true;
                }
                continue;
            }
            if (section == null) throw malformed(file, n, "indented before any section");
            if (indent != 4 || !section.equals("curve")) continue;   // metadata and deeper levels: not ours
            if (!name.equals("public-key") && !name.equals("secret-key")) continue;
            if (curve.containsKey(name)) throw malformed(file, n, "a second " + name);
            if (eq < 0) throw malformed(file, n, name + " has no value");
            String value = value(body.substring(eq + 1).strip());
            if (value == null) throw malformed(file, n, name + ": a quoted value is not closed");
            if (!CurveKeys.isZ85Key(value)) throw malformed(file, n, name + " must be 40 Z85 characters");
            curve.put(name, new Key(CurveKeys.decodeZ85(value), n));
        }
        if (!sawCurve) throw new KeyFileException(file, "is not a CURVE certificate: it has no curve section");
        return curve;
    }

    /** A ZPL value: quoted ({@code "…"} or {@code '…'}) or bare up to a comment; null when a quote is not closed. */
    private static String value(String v) {
        if (v.startsWith("\"") || v.startsWith("'")) {
            int end = v.indexOf(v.charAt(0), 1);
            return end < 0 ? null : v.substring(1, end);
        }
        int hash = v.indexOf('#');
        return (hash < 0 ? v : v.substring(0, hash)).strip();
    }

    private static KeyFileException malformed(Path file, int line, String what) {
        return new KeyFileException(file, "is not a CURVE certificate: line " + line + ": " + what);
    }

    /** {@code 0644}. */
    static String mode(Set<PosixFilePermission> perms) {
        int m = 0;
        for (PosixFilePermission p : perms) m |= 1 << (8 - p.ordinal());
        return String.format("0%03o", m);
    }

    private static String reason(IOException e) {
        if (e instanceof AccessDeniedException) return "permission denied";
        if (e instanceof NoSuchFileException) return "no such file or directory";
        if (e instanceof FileSystemException f && f.getReason() != null) {
            String r = f.getReason();
            return Character.toLowerCase(r.charAt(0)) + r.substring(1);
        }
        return e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName();
    }
}
