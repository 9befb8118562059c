package io.quorumd.it.local;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A cluster on IPv6 loopback end to end: {@code bind: "::1"}, peers at {@code ::1}, the launcher's
 * JVM (no IPv4 preference any more) and trusted mode's address allow-list, which must admit
 * the peers' IPv6 address. An election, then a kill -9 fail-over, with the observer judging
 * exclusivity as everywhere else.
 */
@org.junit.jupiter.api.parallel.Isolated
class Ipv6ClusterTest {
    @TempDir
    Path tmp;

    @Test
    void aClusterOnIpv6LoopbackElectsAndFailsOver() throws Exception {
        List<LocalCluster.Placement> v6 = new ArrayList<>();
        for (LocalCluster.Placement p : LocalCluster.loopback(3)) v6.add(new LocalCluster.Placement("::1", p.port(), List.of()));
        LocalCluster cluster = new LocalCluster(tmp, v6, "1s", "", "info", false);
        try {
            cluster.startAll();
            String first = cluster.awaitMasterRunning(Duration.ofSeconds(15), null);
            for (String id : cluster.members.keySet()) {
                Map<String, Object> s = cluster.status(id);
                assertTrue(s != null && String.valueOf(s.get("bind")).startsWith("[::1]:"), id + " is bound to ::1: " + s);
                // every peer heard: their connections passed the trusted allow-list over IPv6
                for (Object peer : (List<?>) s.get("peers")) {
                    assertTrue("up".equals(((Map<?, ?>) peer).get("state")), () -> id + " does not hear a peer over IPv6: " + s);
                }
            }
            cluster.kill9(first);
            String next = cluster.awaitMasterRunning(Duration.ofSeconds(15), first);
            System.out.printf("[ipv6] master %s killed, %s took over on ::1%n", first, next);
        } finally {
            try {
                cluster.close();
            } finally {
                assertTrue(cluster.observer.overlaps().isEmpty(), "commands overlapped: " + cluster.observer.overlaps());
            }
        }
    }
}
