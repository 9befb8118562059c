package io.quorumd.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.net.InetAddress;
import java.net.NetworkInterface;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Route tables written as the kernel writes them, and this host's real interfaces. */
class BindResolverTest {
    static final String HEADER = "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n";

    @TempDir
    Path dir;

    static Path routes(Path dir, String... lines) throws IOException {
        return Files.writeString(dir.resolve("route"), HEADER + String.join("\n", lines) + "\n");
    }

    /** One default route through {@code iface}: {@code iface 00000000 gateway UP|GATEWAY metric 00000000}. */
    static String defaultVia(String iface, String gatewayHex, int metric) {
        return iface + "\t00000000\t" + gatewayHex + "\t0003\t0\t0\t" + metric + "\t00000000\t0\t0\t0";
    }

    @Test
    void autoTakesTheDefaultRoutesInterface() throws Exception {
        Path table = routes(dir, "lo\t0000007F\t00000000\t0001\t0\t0\t0\t000000FF\t0\t0\t0",
                defaultVia("lo", "0100007F", 0));
        ResolvedBind r = BindResolver.resolve("auto", table);
        assertEquals(InetAddress.getByName("127.0.0.1"), r.address());
        assertEquals("bind: auto resolved to 127.0.0.1 (lo, default route)", r.description());
    }

    @Test
    void theLowestMetricWins() throws Exception {
        assertEquals("bind: auto resolved to 127.0.0.1 (lo, default route)", BindResolver.resolve("auto",
                routes(dir, defaultVia("nosuch0", "0100007F", 100), defaultVia("lo", "0100007F", 5))).description());
        assertEquals("the default route's interface nosuch0 does not exist; set bind to this host's IP address",
                assertThrows(UnresolvedBindException.class, () -> BindResolver.resolve("auto",
                        routes(dir, defaultVia("nosuch0", "0100007F", 1), defaultVia("lo", "0100007F", 5))))
                        .getMessage());
    }

    @Test
    void noDefaultRouteIsAnError() throws Exception {
        Path table = routes(dir, "lo\t0000007F\t00000000\t0001\t0\t0\t0\t000000FF\t0\t0\t0",
                // a default route that is down does not count
                "lo\t00000000\t0100007F\t0002\t0\t0\t0\t00000000\t0\t0\t0");
        assertEquals("no default route in " + table + ", so auto has no address to pick; set bind to this host's"
                + " IP address", assertThrows(UnresolvedBindException.class,
                () -> BindResolver.resolve("auto", table)).getMessage());
        Path missing = dir.resolve("none");
        assertEquals("cannot read " + missing + " to find the default route (" + missing + "); set bind to this"
                + " host's IP address", assertThrows(UnresolvedBindException.class,
                () -> BindResolver.resolve("auto", missing)).getMessage());
    }

    @Test
    void literalsMustBeThisHostsAddresses() throws Exception {
        Path none = dir.resolve("unused");
        assertEquals("bind: 127.0.0.1 (lo)", BindResolver.resolve("127.0.0.1", none).description());
        assertEquals("bind: 0.0.0.0 (every interface)", BindResolver.resolve("0.0.0.0", none).description());
        // bound, not looked up: 127.0.0.11 is in loopback's 127.0.0.0/8, on no interface's list
        ResolvedBind eleven = BindResolver.resolve("127.0.0.11", none);
        assertEquals(InetAddress.getByName("127.0.0.11"), eleven.address());
        assertEquals("bind: 127.0.0.11 (lo)", eleven.description());
        if (NetworkInterface.getByInetAddress(InetAddress.getByName("::1")) != null) {
            assertEquals("bind: ::1 (lo)", BindResolver.resolve("::1", none).description());
        }
        InetAddress benchmarking = InetAddress.getByName("198.18.255.254");
        assumeTrue(NetworkInterface.getByInetAddress(benchmarking) == null, "198.18.255.254 is on this host");
        assertEquals("this host cannot bind 198.18.255.254: Cannot assign requested address; set bind to one of this"
                + " host's addresses, or auto", assertThrows(UnresolvedBindException.class,
                () -> BindResolver.resolve("198.18.255.254", none)).getMessage());
        InetAddress foreign = InetAddress.getByName("203.0.113.77");
        assumeTrue(NetworkInterface.getByInetAddress(foreign) == null, "203.0.113.77 is on this host");
        assertEquals("this host cannot bind 203.0.113.77: Cannot assign requested address; set bind to one of this"
                + " host's addresses, or auto", assertThrows(UnresolvedBindException.class,
                () -> BindResolver.resolve("203.0.113.77", none)).getMessage());
    }

    @Test
    void describeSaysWhatBindResolvesToOrWhyNot() throws Exception {
        Config c = new Config(null, "c", "a", "127.0.0.1", List.of(new PeerConfig("a", "127.0.0.1", 40001, 100, null)),
                null, TimingConfig.defaults(), null, null, dir, dir.resolve("s"), "info");
        assertEquals("bind: 127.0.0.1 (lo)", BindResolver.describe(c));
        InetAddress foreign = InetAddress.getByName("203.0.113.77");
        assumeTrue(NetworkInterface.getByInetAddress(foreign) == null, "203.0.113.77 is on this host");
        Config far = new Config(null, "c", "a", "203.0.113.77", c.peers(), null, c.timing(), null, null, dir, dir, "info");
        assertEquals("bind: 203.0.113.77 does not resolve: this host cannot bind 203.0.113.77: Cannot assign"
                + " requested address; set bind to one of this host's addresses, or auto", BindResolver.describe(far));
    }

    @Test
    void thisHostsRealRouteTable() throws Exception {
        Path real = BindResolver.ROUTE_TABLE;
        assumeTrue(Files.isReadable(real), "no /proc/net/route");
        String defaultIface = null;
        for (String line : Files.readAllLines(real).subList(1, Files.readAllLines(real).size())) {
            String[] f = line.trim().split("\\s+");
            if (f[1].equals("00000000") && f[7].equals("00000000") && (Integer.parseInt(f[3], 16) & 1) != 0) {
                defaultIface = f[0];
                break;
            }
        }
        if (defaultIface == null) {
            assertThrows(UnresolvedBindException.class, () -> BindResolver.resolve("auto", real));
            return;
        }
        ResolvedBind r = BindResolver.resolve("auto", real);
        List<InetAddress> addresses = Collections.list(NetworkInterface.getByName(defaultIface).getInetAddresses());
        assertTrue(addresses.contains(r.address()), r + " on " + defaultIface + " " + addresses);
        assertTrue(r.description().endsWith("(" + defaultIface + ", default route)"), r.description());
    }
}
