package io.quorumd.config;

import java.nio.file.Path;
import java.util.Objects;

/**
 * One thing wrong with a config file, rendered by {@link #toString()} as SPEC's
 * {@code FILE:LINE:COL: path.to.key: what is wrong (got X)}.
 *
 * @param file     the config file as the operator named it
 * @param position where it is, or null when unknown (a config built in code); the line then
 *                 reads {@code FILE: key: ...}
 * @param key      the key path ({@code peers[1].port}), or empty for the file as a whole
 * @param what     what is wrong and, where it helps, what to do
 * @param got      the value as written in the file, or null when nothing was written
 *                 (a missing key)
 */
public record ConfigProblem(Path file, Position position, String key, String what, String got) {
    public ConfigProblem {
        Objects.requireNonNull(key, "key");
        Objects.requireNonNull(what, "what");
    }

    @Override
    public String toString() {
        StringBuilder b = new StringBuilder();
        if (file != null) b.append(file);
        if (position != null) b.append(file != null ? ":" : "").append(position.line()).append(':').append(position.column());
        if (b.length() > 0) b.append(": ");
        if (!key.isEmpty()) b.append(key).append(": ");
        b.append(what);
        if (got != null) b.append(" (got ").append(got).append(')');
        return b.toString();
    }
}
