package io.quorumd.config;

import java.util.Objects;

/** A config as read from its file, with the position of every setting for later messages. */
public record LoadedConfig(Config config, Positions positions) {
    public LoadedConfig {
        Objects.requireNonNull(config, "config");
        Objects.requireNonNull(positions, "positions");
    }
}
