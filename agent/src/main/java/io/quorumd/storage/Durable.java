package io.quorumd.storage;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/** fsync of a directory: a created, renamed or deleted entry is durable only once its directory is. */
final class Durable {
    private Durable() {
    }

    static void fsyncDirectory(Path dir) throws IOException {
        try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
            d.force(true);
        } catch (IOException e) {
            throw new IOException("cannot fsync directory " + dir + ": " + StateFile.describe(e), e);
        }
    }
}
