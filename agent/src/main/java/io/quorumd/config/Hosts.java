package io.quorumd.config;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Syntax of host names and IP literals, without ever asking DNS: loading a config must not
 * depend on the network, and a name that does not resolve today may resolve tomorrow.
 */
final class Hosts {
    private static final Pattern IPV4 = Pattern.compile("(\\d{1,3})\\.(\\d{1,3})\\.(\\d{1,3})\\.(\\d{1,3})");
    private static final Pattern IPV6_CHARS = Pattern.compile("[0-9A-Fa-f:.]+");
    private static final Pattern ZONE = Pattern.compile("[A-Za-z0-9_.-]+");
    // underscores are not RFC 1123 but Docker and Compose service names use them
    private static final Pattern LABEL = Pattern.compile("[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?");
    private static final Pattern NUMERIC = Pattern.compile("[0-9]+");

    private Hosts() {}

    /** The address of an IPv4 or IPv6 literal, or null when {@code text} is not one. */
    static InetAddress ipLiteral(String text) {
        Matcher m = IPV4.matcher(text);
        if (m.matches()) {
            byte[] b = new byte[4];
            for (int i = 0; i < 4; i++) {
                String part = m.group(i + 1);
                int v = Integer.parseInt(part);
                // a leading zero is octal to inet_aton and decimal to others: refuse the ambiguity
                if (v > 255 || (part.length() > 1 && part.charAt(0) == '0')) return null;
                b[i] = (byte) v;
            }
            try {
                return InetAddress.getByAddress(b);
            } catch (UnknownHostException e) {
                throw new AssertionError("4 bytes are always an address", e);
            }
        }
        String s = text;
        if (s.startsWith("[") && s.endsWith("]")) s = s.substring(1, s.length() - 1);
        int pct = s.indexOf('%');
        String addr = pct < 0 ? s : s.substring(0, pct);
        if (!addr.contains(":") || !IPV6_CHARS.matcher(addr).matches()) return null;
        if (pct >= 0 && !ZONE.matcher(s.substring(pct + 1)).matches()) return null;
        try {
            // with a ':' in it, the JDK parses a literal and never asks DNS
            return InetAddress.getByName(addr);
        } catch (UnknownHostException e) {
            return null;
        }
    }

    /** Null when {@code text} is a valid host name or IP literal, else what is wrong. */
    static String hostProblem(String text) {
        if (text.isEmpty()) return "must be a host name or an IP address";
        if (ipLiteral(text) != null) return null;
        if (text.contains(":")) return "is not a valid IPv6 address";
        String name = text.endsWith(".") ? text.substring(0, text.length() - 1) : text;
        if (name.isEmpty() || name.length() > 253) return "must be a host name or an IP address";
        boolean allNumeric = true;
        for (String label : name.split("\\.", -1)) {
            if (!LABEL.matcher(label).matches())
                return "must be a host name (letters, digits, '-' and '.') or an IP address";
            allNumeric &= NUMERIC.matcher(label).matches();
        }
        if (allNumeric) return "is not a valid IPv4 address (four numbers 0-255, no leading zeros)";
        return null;
    }

    /**
     * A key under which two spellings of one host compare equal: the canonical address of a
     * literal, or the lower-case name without a trailing dot. A name and its address still
     * differ: telling them apart would need DNS.
     */
    static String hostKey(String host) {
        InetAddress a = ipLiteral(host);
        if (a != null) return a.getHostAddress();
        String h = host.toLowerCase(Locale.ROOT);
        return h.endsWith(".") ? h.substring(0, h.length() - 1) : h;
    }
}
