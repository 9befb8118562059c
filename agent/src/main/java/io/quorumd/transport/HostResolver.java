package io.quorumd.transport;

import java.net.InetAddress;
import java.net.UnknownHostException;

/** Turns a peer's host name into an address; the default is {@link InetAddress#getByName}. */
@FunctionalInterface
public interface HostResolver {
    InetAddress resolve(String host) throws UnknownHostException;
}
