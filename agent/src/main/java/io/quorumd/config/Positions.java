package io.quorumd.config;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Where each setting of a loaded config came from, by key path ({@code state_dir},
 * {@code command.exec[0]}, {@code hooks.fence}). A setting left to its default maps to the
 * enclosing mapping, as a missing key does, so that run-time checks can always cite a line.
 * Kept beside the {@link Config} rather than in it so that configs compare by value.
 */
public final class Positions {
    /** For a config built in code: nothing has a position. */
    public static final Positions NONE = new Positions(Map.of());

    private final Map<String, Position> byKey;

    Positions(Map<String, Position> byKey) {
        this.byKey = Collections.unmodifiableMap(new LinkedHashMap<>(byKey));
    }

    /** The position of the value at {@code keyPath}, or null when unknown. */
    public Position at(String keyPath) {
        return byKey.get(keyPath);
    }

    /** Every recorded key path, in file order. */
    public Map<String, Position> asMap() {
        return byKey;
    }
}
