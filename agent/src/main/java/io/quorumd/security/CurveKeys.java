package io.quorumd.security;

import org.zeromq.ZMQ;

import java.util.Arrays;
import java.util.regex.Pattern;

/**
 * A CurveZMQ key pair (32-byte Curve25519 keys), as {@code quorumd keygen} writes it and the
 * transport uses it. The secret key never appears in {@link #toString()}.
 */
public final class CurveKeys {
    /** Length of a key in Z85 text: 32 bytes → 40 characters. */
    public static final int Z85_LENGTH = 40;
    private static final Pattern Z85 = Pattern.compile(
            "[0-9a-zA-Z.\\-:+=^!/*?&<>()\\[\\]{}@%$#]{" + Z85_LENGTH + "}");

    private final byte[] publicKey;
    private final byte[] secretKey;

    public CurveKeys(byte[] publicKey, byte[] secretKey) {
        if (publicKey == null || publicKey.length != 32) throw new IllegalArgumentException("a CURVE public key is 32 bytes");
        if (secretKey == null || secretKey.length != 32) throw new IllegalArgumentException("a CURVE secret key is 32 bytes");
        this.publicKey = publicKey.clone();
        this.secretKey = secretKey.clone();
    }

    /** A fresh key pair from the platform's secure random source. */
    public static CurveKeys generate() {
        ZMQ.Curve.KeyPair kp = ZMQ.Curve.generateKeyPair();
        return new CurveKeys(decodeZ85(kp.publicKey), decodeZ85(kp.secretKey));
    }

    /** True when {@code text} is 40 characters of ZeroMQ's Z85 alphabet (what a key's text form is). */
    public static boolean isZ85Key(String text) {
        return text != null && Z85.matcher(text).matches();
    }

    /**
     * Decodes a 40-character Z85 key.
     *
     * @throws IllegalArgumentException when it is not one
     */
    public static byte[] decodeZ85(String text) {
        if (!isZ85Key(text)) throw new IllegalArgumentException("not a 40-character Z85 key");
        byte[] b = ZMQ.Curve.z85Decode(text);
        if (b == null || b.length != 32) throw new IllegalArgumentException("not a 40-character Z85 key");
        return b;
    }

    public static String encodeZ85(byte[] key) {
        if (key == null || key.length != 32) throw new IllegalArgumentException("a CURVE key is 32 bytes");
        return ZMQ.Curve.z85Encode(key);
    }

    public byte[] publicKey() {
        return publicKey.clone();
    }

    public byte[] secretKey() {
        return secretKey.clone();
    }

    public String publicKeyZ85() {
        return encodeZ85(publicKey);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof CurveKeys k && Arrays.equals(publicKey, k.publicKey) && Arrays.equals(secretKey, k.secretKey);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(publicKey);
    }

    @Override
    public String toString() {
        return "CurveKeys[public=" + publicKeyZ85() + ", secret=<hidden>]";
    }
}
