package io.quorumd.transport;

import java.net.Inet6Address;
import java.net.InetAddress;

/** How addresses are written in endpoints, logs and {@code status}. */
public final class Addresses {
    private Addresses() {}

    /** {@code 198.18.0.11:51621} or {@code [::1]:51621}: an IPv6 address in brackets, its zeros compressed. */
    public static String hostPort(InetAddress a, int port) {
        if (!(a instanceof Inet6Address)) return a.getHostAddress() + ":" + port;
        return "[" + compress(a.getHostAddress()) + "]:" + port;
    }

    /** RFC 5952's short form of Java's full one ({@code 0:0:0:0:0:0:0:1} → {@code ::1}); a zone index is kept. */
    public static String compress(String full) {
        String zone = "";
        int pct = full.indexOf('%');
        if (pct >= 0) {
            zone = full.substring(pct);
            full = full.substring(0, pct);
        }
        String[] g = full.split(":", -1);
        int bestStart = -1, bestLen = 1;
        for (int i = 0; i < g.length; ) {
            if (!g[i].equals("0")) {
                i++;
                continue;
            }
            int j = i;
            while (j < g.length && g[j].equals("0")) j++;
            if (j - i > bestLen) {
                bestStart = i;
                bestLen = j - i;
            }
            i = j;
        }
        if (bestStart < 0) return full + zone;
        String left = String.join(":", java.util.Arrays.copyOfRange(g, 0, bestStart));
        String right = String.join(":", java.util.Arrays.copyOfRange(g, bestStart + bestLen, g.length));
        return left + "::" + right + zone;
    }
}
