package io.quorumd.bench;

import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/** Order statistics by the nearest-rank method: p99 of 30 samples is the largest one. */
record Stats(int n, double min, double p50, double p95, double p99, double max, double mean) {
    static Stats of(List<Double> values) {
        double[] v = values.stream().filter(d -> d != null && !Double.isNaN(d)).mapToDouble(Double::doubleValue).toArray();
        Arrays.sort(v);
        if (v.length == 0) return new Stats(0, Double.NaN, Double.NaN, Double.NaN, Double.NaN, Double.NaN, Double.NaN);
        return new Stats(v.length, v[0], rank(v, 0.50), rank(v, 0.95), rank(v, 0.99), v[v.length - 1],
                Arrays.stream(v).average().orElse(Double.NaN));
    }

    /** As {@link #of(List)}, without boxing a million samples. */
    static Stats of(double[] values) {
        double[] v = Arrays.stream(values).filter(d -> !Double.isNaN(d)).toArray();
        Arrays.sort(v);
        if (v.length == 0) return new Stats(0, Double.NaN, Double.NaN, Double.NaN, Double.NaN, Double.NaN, Double.NaN);
        return new Stats(v.length, v[0], rank(v, 0.50), rank(v, 0.95), rank(v, 0.99), v[v.length - 1],
                Arrays.stream(v).average().orElse(Double.NaN));
    }

    static double rank(double[] sorted, double p) {
        int i = (int) Math.ceil(p * sorted.length) - 1;
        return sorted[Math.max(0, Math.min(sorted.length - 1, i))];
    }

    static String ms(double d) {
        return Double.isNaN(d) ? "–" : String.format(Locale.ROOT, d < 100 ? "%.1f" : "%.0f", d);
    }
}
