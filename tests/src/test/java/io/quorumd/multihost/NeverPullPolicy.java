package io.quorumd.multihost;

import org.testcontainers.images.ImagePullPolicy;
import org.testcontainers.utility.DockerImageName;

/**
 * No registry is reachable from these machines: images are built locally
 * ({@code make image}); a missing one must fail at once instead of hanging on a pull.
 */
public final class NeverPullPolicy implements ImagePullPolicy {
    @Override
    public boolean shouldPull(DockerImageName imageName) {
        return false;
    }
}
