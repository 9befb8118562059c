package io.quorumd.config;

import java.util.Objects;

/**
 * The {@code metrics} section: where the Prometheus endpoint ({@code /metrics}) listens. Absent:
 * no endpoint and no HTTP threads at all.
 *
 * @param host an IP literal (without brackets)
 * @param port 1..65535
 */
public record MetricsConfig(String host, int port) {
    public MetricsConfig {
        Objects.requireNonNull(host, "host");
        if (port < 1 || port > 65535) throw new IllegalArgumentException("port out of 1..65535: " + port);
    }

    /** As written in the file: {@code 127.0.0.1:9851}, {@code [::1]:9851}. */
    public String listen() {
        return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + port;
    }
}
