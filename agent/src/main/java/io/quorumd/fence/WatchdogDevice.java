package io.quorumd.fence;

import com.sun.jna.Library;
import com.sun.jna.Native;
import com.sun.jna.ptr.IntByReference;
import java.io.IOException;
import java.nio.file.Path;

/**
 * One open watchdog device, through libc (open, write, ioctl, close): the Linux watchdog API
 * ({@code Documentation/watchdog/watchdog-api.rst}). Opening it starts the timer; any write pets
 * it; writing {@code 'V'} before closing is the "magic close" that stops it (unless the driver was
 * built with nowayout). Not thread-safe: {@link SelfFence}'s thread alone uses it.
 */
final class WatchdogDevice implements AutoCloseable {
    private static final int O_WRONLY = 01;
    private static final int O_CLOEXEC = 02000000;
    /** {@code _IOWR('W', 6, int)}. */
    private static final int WDIOC_SETTIMEOUT = 0xC0045706;
    private static final byte[] PET = {'.'};
    private static final byte[] MAGIC_CLOSE = {'V'};

    interface LibC extends Library {
        int open(String path, int flags);

        int write(int fd, byte[] buf, long count);

        int ioctl(int fd, int request, IntByReference arg);

        int close(int fd);
    }

    private static final LibC C = Native.load("c", LibC.class);

    private final Path path;
    private int fd;

    private WatchdogDevice(Path path, int fd) {
        this.path = path;
        this.fd = fd;
    }

    /** Opens {@code path} for writing: from now on the device resets the host unless petted. */
    static WatchdogDevice open(Path path) throws IOException {
        int fd = C.open(path.toString(), O_WRONLY | O_CLOEXEC);
        if (fd < 0) throw new IOException("cannot open " + path + ": errno " + Native.getLastError()
                + " (held by another process, e.g. systemd's RuntimeWatchdogSec?)");
        return new WatchdogDevice(path, fd);
    }

    /**
     * Asks the driver for a timeout of {@code seconds}; returns the timeout it took, or -1 when
     * the file takes no such request (not a watchdog driver).
     */
    int setTimeout(int seconds) {
        IntByReference t = new IntByReference(seconds);
        return C.ioctl(fd, WDIOC_SETTIMEOUT, t) < 0 ? -1 : t.getValue();
    }

    void pet() throws IOException {
        if (C.write(fd, PET, 1) != 1) throw new IOException("cannot write to " + path + ": errno " + Native.getLastError());
    }

    /** The magic close: 'V', then close; the device stops counting. */
    void disarm() throws IOException {
        try {
            if (C.write(fd, MAGIC_CLOSE, 1) != 1) {
                throw new IOException("cannot write the magic close to " + path + ": errno " + Native.getLastError());
            }
        } finally {
            close();
        }
    }

    /** Closes without the magic 'V': the device keeps counting and resets the host at its timeout. */
    @Override
    public void close() {
        if (fd >= 0) {
            C.close(fd);
            fd = -1;
        }
    }
}
