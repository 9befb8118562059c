package io.quorumd.command;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.function.Consumer;

/**
 * Reads a child's output on its own thread and hands it on line by line. Lines are cut at
 * {@link #MAX_LINE} bytes: a child that never writes a newline must not grow the agent's small
 * heap without bound.
 */
final class LinePump {
    static final int MAX_LINE = 4096;

    private LinePump() {}

    static Thread start(String threadName, InputStream in, Consumer<String> lines) {
        Thread t = new Thread(() -> pump(in, lines), threadName);
        t.setDaemon(true);
        t.start();
        return t;
    }

    private static void pump(InputStream in, Consumer<String> lines) {
        byte[] buf = new byte[8192];
        byte[] line = new byte[MAX_LINE];
        int n = 0;
        try (in) {
            int r;
            while ((r = in.read(buf)) > 0) {
                for (int i = 0; i < r; i++) {
                    byte b = buf[i];
                    if (b == '\n') {
                        emit(line, n, lines);
                        n = 0;
                    } else {
                        if (n == MAX_LINE) {
                            emit(line, n, lines);
                            n = 0;
                        }
                        line[n++] = b;
                    }
                }
            }
        } catch (IOException e) {
            // The stream closes under us when the process is torn down; nothing left to read.
        }
        if (n > 0) {
            emit(line, n, lines);
        }
    }

    private static void emit(byte[] line, int n, Consumer<String> lines) {
        int end = n > 0 && line[n - 1] == '\r' ? n - 1 : n;
        try {
            lines.accept(new String(line, 0, end, StandardCharsets.UTF_8));
        } catch (RuntimeException e) {
            // A consumer's bug must not stop the drain: a full pipe would block the child.
        }
    }
}
