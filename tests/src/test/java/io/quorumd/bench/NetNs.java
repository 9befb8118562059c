package io.quorumd.bench;

import io.quorumd.it.local.LocalCluster.Placement;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Network namespaces for the cut-off scenario (and the store's partitions, {@code KvJepsenTest}): one per node, each with one veth end addressed in
 * 198.18.200.0/24, the other ends on a bridge inside a hub namespace. Nothing is created in the
 * root namespace, so the host's own addresses and routes (and other users of 198.18.0.0/15, such
 * as Docker networks) are never touched. "Cutting a host off" sets its hub-side veth down: its
 * frames vanish without a reset, as when a cable is pulled. {@link #close()} deletes every
 * namespace this object made (their veths go with them); a shutdown hook does the same if the
 * JVM is interrupted.
 */
public final class NetNs implements AutoCloseable {
    private final String prefix;
    private final String hub;
    private final List<String> nodes = new ArrayList<>();
    private final List<String> created = new ArrayList<>();
    private final Thread hook;

    /** Needs root (CAP_NET_ADMIN) and iproute2. */
    public NetNs(int n) throws IOException {
        // names are per process: a second benchmark, or a crashed earlier one, never collides
        prefix = "qb" + ProcessHandle.current().pid();
        hub = prefix + "h";
        hook = new Thread(this::deleteAll, "netns-cleanup");
        Runtime.getRuntime().addShutdownHook(hook);
        try {
            add(hub);
            ip("-n", hub, "link", "add", "br0", "type", "bridge");
            ip("-n", hub, "link", "set", "br0", "up");
            for (int i = 1; i <= n; i++) {
                String ns = prefix + "n" + i;
                add(ns);
                nodes.add(ns);
                ip("link", "add", "e0", "netns", ns, "type", "veth", "peer", "name", "p" + i, "netns", hub);
                ip("-n", ns, "addr", "add", address(i) + "/24", "dev", "e0");
                ip("-n", ns, "link", "set", "lo", "up");
                ip("-n", ns, "link", "set", "e0", "up");
                ip("-n", hub, "link", "set", "p" + i, "master", "br0");
                ip("-n", hub, "link", "set", "p" + i, "up");
            }
        } catch (IOException | RuntimeException e) {
            close();
            throw e;
        }
    }

    static String address(int i) {
        return "198.18.200." + (10 + i);
    }

    /** One placement per node: its namespace address, the default port, launched inside it. */
    public List<Placement> placements() {
        List<Placement> l = new ArrayList<>();
        for (int i = 1; i <= nodes.size(); i++) {
            l.add(new Placement(address(i), 51621, List.of("ip", "netns", "exec", nodes.get(i - 1))));
        }
        return l;
    }

    /** Node {@code i} (1-based) loses its link: nothing in or out, no reset. */
    public void cut(int i) throws IOException {
        ip("-n", hub, "link", "set", "p" + i, "down");
    }

    public void heal(int i) throws IOException {
        ip("-n", hub, "link", "set", "p" + i, "up");
    }

    private void add(String ns) throws IOException {
        ip("netns", "add", ns);
        created.add(ns);
    }

    private static void ip(String... args) throws IOException {
        List<String> argv = new ArrayList<>();
        argv.add("ip");
        argv.addAll(List.of(args));
        Process p = new ProcessBuilder(argv).redirectErrorStream(true).start();
        try {
            if (!p.waitFor(10, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IOException(String.join(" ", argv) + ": no answer within 10 s");
            }
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
            if (p.exitValue() != 0) {
                throw new IOException(String.join(" ", argv) + " exited " + p.exitValue() + ": " + out
                        + " (the cut-off scenario needs root and iproute2)");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted running " + argv, e);
        }
    }

    private synchronized void deleteAll() {
        for (int i = created.size() - 1; i >= 0; i--) {
            try {
                ip("netns", "del", created.get(i));
            } catch (IOException e) {
                System.err.println("bench: could not delete network namespace " + created.get(i) + ": " + e.getMessage()
                        + " (delete it with `ip netns del " + created.get(i) + "`)");
            }
        }
        created.clear();
    }

    @Override
    public void close() {
        deleteAll();
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException shuttingDown) {
            // the hook runs (or ran) anyway
        }
    }
}
