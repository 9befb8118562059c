package io.quorumd.config;

import org.yaml.snakeyaml.error.Mark;

/** A 1-based line and column (in Unicode code points) in the config file. */
public record Position(int line, int column) {
    /** Where problems about the whole file point: an empty or oversized file. */
    public static final Position START = new Position(1, 1);

    public Position {
        if (line < 1 || column < 1) throw new IllegalArgumentException("positions are 1-based: " + line + ":" + column);
    }

    static Position of(Mark mark) {
        return new Position(mark.getLine() + 1, mark.getColumn() + 1);
    }

    @Override
    public String toString() {
        return line + ":" + column;
    }
}
