package io.quorumd.config;

import java.io.IOException;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.InterfaceAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.List;

/**
 * Turns {@code bind} into an address. {@code auto} is "the primary IP": the IPv4 address of the
 * interface that carries the default route, as {@code ip route get} would pick it, read from
 * {@code /proc/net/route} so that no packet is sent and no command is run. Only IPv4 is guessed;
 * an IPv6-only host writes its address as {@code bind}.
 *
 * <p>An IP literal is accepted when this host can bind it, decided by binding it: a throwaway TCP
 * socket is bound to the address on an ephemeral port and closed at once (never listening, never
 * connecting, so no packet is sent). That accepts what the kernel accepts and an interface list
 * does not show, such as {@code 127.0.0.11} on loopback's 127.0.0.0/8, and a refusal carries the
 * kernel's reason.
 */
public final class BindResolver {
    public static final Path ROUTE_TABLE = Path.of("/proc/net/route");

    private static final int RTF_UP = 0x1;

    private BindResolver() {}

    public static ResolvedBind resolve(Config config) throws UnresolvedBindException {
        return resolve(config.bind(), ROUTE_TABLE);
    }

    /**
     * One line for logs and {@code check}: what {@code bind} resolves to, or why it does not
     * ({@code bind: auto resolved to 10.1.2.3 (eth0, default route)}).
     */
    public static String describe(Config config) {
        try {
            return resolve(config).description();
        } catch (UnresolvedBindException e) {
            return "bind: " + config.bind() + " does not resolve: " + e.getMessage();
        }
    }

    /**
     * @param routeTable a file in the format of {@code /proc/net/route} (tests pass their own)
     */
    public static ResolvedBind resolve(String bind, Path routeTable) throws UnresolvedBindException {
        if (Config.BIND_AUTO.equals(bind)) return auto(routeTable);
        InetAddress address = Hosts.ipLiteral(bind);
        if (address == null) throw new UnresolvedBindException("bind must be auto or an IP address, got " + bind);
        if (address.isAnyLocalAddress()) return new ResolvedBind(address, "bind: " + bind + " (every interface)");
        try (Socket probe = new Socket()) {
            probe.bind(new InetSocketAddress(address, 0));
        } catch (IOException e) {
            String why = e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName();
            throw new UnresolvedBindException("this host cannot bind " + bind + ": " + why
                    + "; set bind to one of this host's addresses, or auto");
        }
        String nic = interfaceOf(address);
        return new ResolvedBind(address, "bind: " + bind + " (" + (nic != null ? nic : "bindable on this host") + ")");
    }

    /** The interface that has {@code address}, or else the first whose subnet holds it; null when none does. */
    private static String interfaceOf(InetAddress address) {
        try {
            NetworkInterface nic = NetworkInterface.getByInetAddress(address);
            if (nic != null) return nic.getName();
            for (NetworkInterface n : Collections.list(NetworkInterface.getNetworkInterfaces())) {
                for (InterfaceAddress ia : n.getInterfaceAddresses()) {
                    if (ia.getAddress().getClass() == address.getClass() && inSubnet(ia, address)) return n.getName();
                }
            }
        } catch (SocketException e) {
            // only the description suffers
        }
        return null;
    }

    private record Route(String iface, InetAddress gateway, long metric) {}

    private static ResolvedBind auto(Path routeTable) throws UnresolvedBindException {
        Route route = defaultRoute(routeTable);
        NetworkInterface nic;
        try {
            nic = NetworkInterface.getByName(route.iface);
        } catch (SocketException e) {
            throw new UnresolvedBindException("cannot look up interface " + route.iface + ": " + e.getMessage());
        }
        if (nic == null)
            throw new UnresolvedBindException("the default route's interface " + route.iface
                    + " does not exist; set bind to this host's IP address");
        InterfaceAddress chosen = null;
        for (InterfaceAddress ia : nic.getInterfaceAddresses()) {
            if (!(ia.getAddress() instanceof Inet4Address)) continue;
            // several addresses: the one whose subnet holds the gateway is the one the route uses
            if (chosen == null || (!inSubnet(chosen, route.gateway) && inSubnet(ia, route.gateway))) chosen = ia;
        }
        if (chosen == null)
            throw new UnresolvedBindException("the default route's interface " + route.iface
                    + " has no IPv4 address; set bind to this host's IP address");
        InetAddress a = chosen.getAddress();
        return new ResolvedBind(a, "bind: auto resolved to " + a.getHostAddress() + " (" + route.iface + ", default route)");
    }

    private static Route defaultRoute(Path routeTable) throws UnresolvedBindException {
        List<String> lines;
        try {
            lines = Files.readAllLines(routeTable, StandardCharsets.US_ASCII);
        } catch (IOException e) {
            throw new UnresolvedBindException("cannot read " + routeTable + " to find the default route ("
                    + e.getMessage() + "); set bind to this host's IP address");
        }
        Route best = null;
        // Iface Destination Gateway Flags RefCnt Use Metric Mask MTU Window IRTT; hex, little-endian
        for (String line : lines.subList(Math.min(1, lines.size()), lines.size())) {
            String[] f = line.trim().split("\\s+");
            if (f.length < 8) continue;
            try {
                long destination = Long.parseLong(f[1], 16);
                long mask = Long.parseLong(f[7], 16);
                int flags = Integer.parseInt(f[3], 16);
                long metric = Long.parseLong(f[6]);
                if (destination != 0 || mask != 0 || (flags & RTF_UP) == 0) continue;
                if (best == null || metric < best.metric) best = new Route(f[0], gateway(f[2]), metric);
            } catch (NumberFormatException e) {
                // a line we do not understand is not a default route
            }
        }
        if (best == null)
            throw new UnresolvedBindException("no default route in " + routeTable
                    + ", so auto has no address to pick; set bind to this host's IP address");
        return best;
    }

    private static InetAddress gateway(String hex) {
        long v = Long.parseLong(hex, 16);
        byte[] b = {(byte) v, (byte) (v >> 8), (byte) (v >> 16), (byte) (v >> 24)};
        try {
            return InetAddress.getByAddress(b);
        } catch (UnknownHostException e) {
            throw new AssertionError("4 bytes are always an address", e);
        }
    }

    private static boolean inSubnet(InterfaceAddress ia, InetAddress gateway) {
        byte[] a = ia.getAddress().getAddress();
        byte[] g = gateway.getAddress();
        if (a.length != g.length) return false;
        int bits = ia.getNetworkPrefixLength();
        for (int i = 0; i < a.length * 8 && i < bits; i++) {
            int mask = 0x80 >> (i % 8);
            if ((a[i / 8] & mask) != (g[i / 8] & mask)) return false;
        }
        return true;
    }
}
