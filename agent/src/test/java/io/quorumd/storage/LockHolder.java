package io.quorumd.storage;

import java.nio.file.Path;

/** A second "agent" for {@link StateFileTest}: holds the lock until killed or its stdin closes. */
public final class LockHolder {
    private LockHolder() {}

    public static void main(String[] args) throws Exception {
        StateDirLock lock = StateDirLock.acquire(Path.of(args[0]));
        try {
            System.out.println("locked");
            System.out.flush();
            while (System.in.read() >= 0) {
                // hold the lock
            }
        } finally {
            lock.close();
        }
    }
}
