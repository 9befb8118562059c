package io.quorumd.transport;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

/**
 * A ZMTP 3.0 client written from the RFC (23/ZMTP, 37/ZMTP), not with JeroMQ: it speaks the NULL
 * mechanism from any local address (loopback's 127.0.0.0/8 lets a test be "a stranger") and can
 * send whatever frames an attacker would, including parts that never end.
 */
public final class RawZmtp implements AutoCloseable {
    private final Socket socket;
    private final OutputStream out;
    private final DataInputStream in;

    /** Connects from {@code source} (port chosen by the kernel) to {@code host:port}. */
    public RawZmtp(InetAddress source, InetAddress host, int port) throws IOException {
        socket = new Socket();
        socket.setSoTimeout(3000);
        socket.bind(new InetSocketAddress(source, 0));
        socket.connect(new InetSocketAddress(host, port), 3000);
        out = socket.getOutputStream();
        in = new DataInputStream(socket.getInputStream());
    }

    /** Greeting and READY as a DEALER with the NULL mechanism, after the server's greeting. */
    public RawZmtp handshake(String socketType) throws IOException {
        byte[] greeting = new byte[64];
        greeting[0] = (byte) 0xFF;
        greeting[8] = 1; // the signature's padding, as libzmq and JeroMQ send it
        greeting[9] = 0x7F;
        greeting[10] = 3; // version 3.0
        greeting[11] = 0;
        byte[] mech = "NULL".getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(mech, 0, greeting, 12, mech.length);
        out.write(greeting);
        out.flush();
        // JeroMQ mishandles a READY that arrives before it sent its greeting: wait for the server's
        in.readFully(new byte[64]);
        byte[] name = "Socket-Type".getBytes(StandardCharsets.US_ASCII);
        byte[] value = socketType.getBytes(StandardCharsets.US_ASCII);
        int bodyLength = 1 + 5 + 1 + name.length + 4 + value.length;
        out.write(0x04); // command, short
        out.write(bodyLength);
        out.write(5);
        out.write("READY".getBytes(StandardCharsets.US_ASCII));
        out.write(name.length);
        out.write(name);
        out.write(new byte[] {0, 0, 0, (byte) value.length});
        out.write(value);
        out.flush();
        return this;
    }

    /** One message frame; {@code more} marks that another part follows. */
    public void frame(byte[] body, boolean more) throws IOException {
        if (body.length < 256) {
            out.write(more ? 0x01 : 0x00);
            out.write(body.length);
        } else {
            out.write(more ? 0x03 : 0x02);
            long n = body.length;
            for (int shift = 56; shift >= 0; shift -= 8) out.write((int) (n >>> shift));
        }
        out.write(body);
        out.flush();
    }

    /** Reads until the server closes the connection or {@code millis} pass; true when it closed. */
    public boolean closedByPeerWithin(long millis) {
        long deadline = System.nanoTime() + millis * 1_000_000;
        byte[] buf = new byte[4096];
        try {
            while (System.nanoTime() < deadline) {
                try {
                    if (in.read(buf) < 0) return true;
                } catch (java.net.SocketTimeoutException e) {
                    // keep reading until the deadline
                }
            }
            return false;
        } catch (IOException e) {
            return true; // reset
        }
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
