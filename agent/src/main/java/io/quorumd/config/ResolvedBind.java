package io.quorumd.config;

import java.net.InetAddress;
import java.util.Objects;

/**
 * The address the agent binds, and a line for the log and {@code check} saying why
 * ({@code bind: auto resolved to 10.1.2.3 (eth0, default route)}).
 */
public record ResolvedBind(InetAddress address, String description) {
    public ResolvedBind {
        Objects.requireNonNull(address, "address");
        Objects.requireNonNull(description, "description");
    }
}
