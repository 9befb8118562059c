package io.quorumd.cli;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.util.Collection;

/** Ports for agents on 127.0.0.1 (the demo, the tests, the benchmark): asked of the kernel, never guessed. */
public final class FreePorts {
    private FreePorts() {}

    /**
     * A port p such that p and p + 1 (keep-alives and requests) are free on 127.0.0.1 now and do
     * not touch the pairs already {@code taken}.
     */
    public static int pair(Collection<Integer> taken) throws IOException {
        InetAddress lo = InetAddress.getLoopbackAddress();
        for (int attempt = 0; attempt < 200; attempt++) {
            try (ServerSocket a = new ServerSocket(0, 1, lo)) {
                int p = a.getLocalPort();
                if (p >= 65534 || taken.stream().anyMatch(t -> Math.abs(t - p) <= 1)) continue;
                try {
                    new ServerSocket(p + 1, 1, lo).close();
                    return p;
                } catch (IOException busy) {
                    // p + 1 is taken: try another
                }
            }
        }
        throw new IOException("no two consecutive free ports found on 127.0.0.1");
    }
}
