package io.quorumd;

import io.quorumd.core.NodeConfig;
import io.quorumd.core.Peer;
import io.quorumd.core.Peers;
import io.quorumd.core.Timing;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The warm-up rehearses the whole hand-over on a scratch node: were it to stop short (a changed
 * core no longer following its script), the real first election would pay for the cold code again.
 */
class MasterPathWarmUpTest {
    private static NodeConfig config(String self, int n, boolean replication) {
        List<Peer> peers = new ArrayList<>();
        for (int i = 1; i <= n; i++) peers.add(new Peer("n" + i, 100));
        return new NodeConfig(new Peers(self, peers), Timing.defaults(), false, replication);
    }

    @Test
    void itRunsFromFollowerThroughHandOverAndCommandToHandingOverAgain() {
        for (int n : new int[] {2, 3, 5, 9}) {
            for (boolean replication : new boolean[] {false, true}) {
                Set<MasterPathWarmUp.Step> reached = MasterPathWarmUp.run(config("n2", n, replication));
                assertEquals(List.of(MasterPathWarmUp.Step.values()), List.copyOf(reached), n + " nodes, replication " + replication);
            }
        }
    }

    @Test
    void aOneNodeClusterHasNothingToRehearse() {
        assertTrue(MasterPathWarmUp.run(config("n1", 1, false)).isEmpty());
    }
}
