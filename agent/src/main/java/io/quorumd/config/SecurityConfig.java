package io.quorumd.config;

import java.nio.file.Path;
import java.util.Objects;

/**
 * The {@code security} section: CurveZMQ on every cluster socket. A {@link Config} without one
 * ({@code security() == null}) runs in trusted mode, where any process on a peer's host can speak
 * for that peer.
 *
 * @param curveKey {@code security.curve.key}: this node's key pair, the {@code PATH_secret} file
 *                 that {@code quorumd keygen --out PATH} wrote (mode 0600)
 */
public record SecurityConfig(Path curveKey) {
    public SecurityConfig {
        Objects.requireNonNull(curveKey, "curveKey");
    }
}
