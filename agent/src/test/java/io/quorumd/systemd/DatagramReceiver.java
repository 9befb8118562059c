package io.quorumd.systemd;

import com.sun.jna.LastErrorException;
import com.sun.jna.Library;
import com.sun.jna.Native;
import com.sun.jna.NativeLong;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/**
 * The systemd side of sd_notify, for tests: a bound AF_UNIX datagram socket (the JDK has none), made
 * with libc through JNA.
 */
public final class DatagramReceiver implements AutoCloseable {
    interface TestLibC extends Library {
        int socket(int domain, int type, int protocol) throws LastErrorException;

        int bind(int fd, byte[] addr, int addrlen) throws LastErrorException;

        int poll(byte[] fds, NativeLong nfds, int timeoutMillis) throws LastErrorException;

        NativeLong recv(int fd, byte[] buf, NativeLong len, int flags) throws LastErrorException;

        int close(int fd) throws LastErrorException;
    }

    private static final TestLibC C = Native.load("c", TestLibC.class);
    private final int fd;

    /** Binds {@code address}: an absolute path or {@code @abstract}. */
    public DatagramReceiver(String address) {
        fd = C.socket(SdNotify.AF_UNIX, SdNotify.SOCK_DGRAM | SdNotify.SOCK_CLOEXEC, 0);
        byte[] addr = SdNotify.sockaddr(address);
        C.bind(fd, addr, addr.length);
    }

    /** The next datagram, or null if none arrives within {@code timeoutMillis}. */
    public String receive(int timeoutMillis) {
        ByteBuffer pollfd = ByteBuffer.allocate(8).order(ByteOrder.nativeOrder());
        pollfd.putInt(fd).putShort((short) 1 /* POLLIN */).putShort((short) 0);
        if (C.poll(pollfd.array(), new NativeLong(1), timeoutMillis) == 0) return null;
        byte[] buf = new byte[4096];
        int n = C.recv(fd, buf, new NativeLong(buf.length), 0).intValue();
        return new String(buf, 0, n, StandardCharsets.UTF_8);
    }

    @Override
    public void close() {
        C.close(fd);
    }
}
