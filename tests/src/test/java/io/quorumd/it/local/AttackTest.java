package io.quorumd.it.local;

import io.quorumd.it.CommandObserver;
import io.quorumd.core.Message;
import io.quorumd.core.Proof;
import io.quorumd.transport.RawZmtp;
import io.quorumd.wire.Codec;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.InetAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What the outside review did to a running cluster, from a stranger's address (127.0.0.99: a
 * loopback address no peer has), against real agents in both modes: a forged hand-over to a
 * follower's request port, a vote request carrying a term near 2^63, and a stream of 60 KB parts
 * all marked "more" to every port of every agent. Afterwards every agent runs (each has a 32 MiB
 * heap and exits on OutOfMemoryError), the master and its command are the same, no term moved,
 * the observer never saw two commands, and each agent counted the refusals as unauthenticated (by
 * ZAP in trusted mode; under CURVE the handshake refuses a NULL client).
 */
@org.junit.jupiter.api.parallel.Isolated
class AttackTest {
    private static final Duration ELECT = Duration.ofSeconds(15);
    @TempDir
    Path tmp;

    @Test
    void strangersChangeNothingInTrustedMode() throws Exception {
        attack(false);
    }

    @Test
    void strangersChangeNothingUnderCurve() throws Exception {
        attack(true);
    }

    private void attack(boolean curve) throws Exception {
        LocalCluster cluster = new LocalCluster(tmp, LocalCluster.loopback(3), "1s", "", "info", curve);
        try {
            cluster.startAll();
            String master = cluster.awaitMasterRunning(ELECT, null);
            Map<String, Long> terms = new LinkedHashMap<>();
            for (String id : cluster.members.keySet()) terms.put(id, LocalCluster.term(cluster.status(id)));
            Set<String> before = runIds(cluster);
            long term = terms.get(master);
            Codec codec = new Codec("it", cluster.members.keySet());
            InetAddress stranger = InetAddress.getByName("127.0.0.99");
            InetAddress loopback = InetAddress.getByName("127.0.0.1");
            String follower = cluster.members.keySet().stream().filter(id -> !id.equals(master)).findFirst().orElseThrow();
            // our codec refuses to encode such a term: written by hand in its layout, as an attacker would
            byte[] hugeTerm = io.quorumd.wire.CodecTest.pack(new Object[] {1L, "it", master, Long.MAX_VALUE - 1, 1L,
                    "VoteRequest", new Object[] {2L, false, 0L, 0L, 0L, null}});

            for (String id : cluster.members.keySet()) {
                int port = cluster.member(id).placement.port();
                // the forged hand-over names each agent as the successor: the review's one-message attack
                byte[] handOver = codec.encode(new Message.HandOver(master, term, 1, 1, id.equals(master) ? follower : id,
                        new Proof(Proof.Kind.HANDOVER, master, term, true)));
                try (RawZmtp s = new RawZmtp(stranger, loopback, port + 1).handshake("DEALER")) {
                    for (byte[] body : new byte[][] {handOver, hugeTerm}) {
                        s.frame(new byte[0], true);
                        s.frame(body, false);
                    }
                    assertTrue(s.closedByPeerWithin(3000), id + " kept a stranger's connection open");
                } catch (IOException closedAlready) {
                    // refused before we were done writing: as good
                }
                for (int p : new int[] {port, port + 1}) {
                    long written = 0;
                    try (RawZmtp s = new RawZmtp(stranger, loopback, p).handshake("DEALER")) {
                        byte[] part = new byte[60 * 1024];
                        while (written < 256L << 20) {
                            s.frame(part, true);
                            written += part.length;
                        }
                        throw new AssertionError(id + " port " + p + " took 256 MiB of parts from a stranger");
                    } catch (IOException cut) {
                        System.out.printf("[attack curve=%s] %s port %d cut the stranger off after %d KiB%n", curve, id, p,
                                written >> 10);
                    }
                }
            }
            // still the same master, the same command, the same terms, every agent alive
            LocalCluster.await(() -> cluster.members.keySet().stream().allMatch(id -> {
                Map<String, Object> s = cluster.status(id);
                if (s == null || !(s.get("dropped") instanceof Map<?, ?> d)) return false;
                // trusted mode: ZAP refuses the address; CURVE: the handshake refuses a NULL client
                Object n = d.get("unauthenticated");
                return n instanceof Number c && c.longValue() >= 1;
            }), Duration.ofSeconds(5), "every agent to count the strangers' refusals");
            for (String id : cluster.members.keySet()) {
                assertTrue(cluster.member(id).alive(), id + " died:\n" + cluster.logs());
                assertEquals(terms.get(id), LocalCluster.term(cluster.status(id)), id + "'s term moved");
            }
            assertEquals(master, cluster.masterRunning(), cluster.describe());
            assertEquals(before, runIds(cluster), "the command was restarted or another started");
        } finally {
            try {
                cluster.close();
            } finally {
                assertTrue(cluster.observer.overlaps().isEmpty(), "commands overlapped: " + cluster.observer.overlaps());
            }
        }
    }

    /** The runs alive now, each named by node, term and process group. */
    private static Set<String> runIds(LocalCluster cluster) {
        return cluster.observer.running().stream().map(CommandObserver.Run::id).collect(Collectors.toSet());
    }
}
