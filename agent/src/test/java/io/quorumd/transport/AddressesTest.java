package io.quorumd.transport;

import org.junit.jupiter.api.Test;

import java.net.InetAddress;

import static org.junit.jupiter.api.Assertions.assertEquals;

class AddressesTest {
    @Test
    void ipv6IsWrittenShortAndInBrackets() throws Exception {
        assertEquals("[::1]:51621", Addresses.hostPort(InetAddress.getByName("::1"), 51621));
        assertEquals("[fe80::1:0:0:2]:7", Addresses.hostPort(InetAddress.getByName("fe80:0:0:0:1:0:0:2"), 7));
        assertEquals("[2001:db8::]:7", Addresses.hostPort(InetAddress.getByName("2001:db8:0:0:0:0:0:0"), 7));
        assertEquals("[::]:7", Addresses.hostPort(InetAddress.getByName("::"), 7));
        assertEquals("1:2:3:4:5:6:0:8", Addresses.compress("1:2:3:4:5:6:0:8"), "a single zero group stays");
        assertEquals("198.18.0.11:51621", Addresses.hostPort(InetAddress.getByName("198.18.0.11"), 51621));
    }
}
