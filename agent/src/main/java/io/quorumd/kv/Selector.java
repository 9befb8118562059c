package io.quorumd.kv;

import java.util.Objects;

/** Which keys a watch follows: one key, or every key starting with a prefix (the empty prefix: all). */
public record Selector(String text, boolean prefix) {
    public Selector {
        Objects.requireNonNull(text, "text");
    }

    public static Selector key(String key) {
        return new Selector(key, false);
    }

    public static Selector prefix(String prefix) {
        return new Selector(prefix, true);
    }

    public boolean matches(String key) {
        return prefix ? key.startsWith(text) : key.equals(text);
    }
}
