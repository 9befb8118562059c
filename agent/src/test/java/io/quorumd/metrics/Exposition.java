package io.quorumd.metrics;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A strict parser of Prometheus' text exposition format 0.0.4 (the client library has no parser of
 * its own): every line must be a HELP, a TYPE or a sample; a sample belongs to the family whose
 * TYPE came before it; names, label names and escapes are checked; a histogram's buckets are
 * cumulative and end with {@code le="+Inf"} equal to {@code _count}. Anything else throws.
 */
final class Exposition {
    private static final Pattern NAME = Pattern.compile("[a-zA-Z_:][a-zA-Z0-9_:]*");
    private static final Pattern LABEL_NAME = Pattern.compile("[a-zA-Z_][a-zA-Z0-9_]*");
    private static final Pattern HELP = Pattern.compile("# HELP (" + NAME + ") (.*)");
    private static final Pattern TYPE = Pattern.compile("# TYPE (" + NAME + ") (counter|gauge|histogram|summary|untyped)");
    private static final Pattern SAMPLE = Pattern.compile("(" + NAME + ")(\\{(.*)\\})? (\\S+)( -?[0-9]+)?");
    private static final Pattern VALUE = Pattern.compile("[-+]?([0-9]*\\.?[0-9]+([eE][-+]?[0-9]+)?|[0-9]+\\.)|[-+]Inf|NaN");

    record Sample(String name, Map<String, String> labels, double value) {}

    final Map<String, String> types = new LinkedHashMap<>();
    final List<Sample> samples = new ArrayList<>();

    static Exposition parse(String text) {
        if (!text.isEmpty() && !text.endsWith("\n")) throw new IllegalArgumentException("does not end with a newline");
        Exposition e = new Exposition();
        Set<String> helped = new HashSet<>();
        Set<String> seen = new HashSet<>();
        String family = null;
        int n = 0;
        for (String line : text.split("\n", -1)) {
            n++;
            if (n == text.split("\n", -1).length && line.isEmpty()) break;
            Matcher m;
            if ((m = HELP.matcher(line)).matches()) {
                if (!helped.add(m.group(1))) throw bad(n, line, "a second HELP");
                continue;
            }
            if ((m = TYPE.matcher(line)).matches()) {
                if (e.types.put(m.group(1), m.group(2)) != null) throw bad(n, line, "a second TYPE");
                family = m.group(1);
                continue;
            }
            if (line.startsWith("#")) throw bad(n, line, "a comment that is neither HELP nor TYPE");
            m = SAMPLE.matcher(line);
            if (!m.matches()) throw bad(n, line, "not a sample line");
            String name = m.group(1);
            if (family == null || !belongs(name, family, e.types.get(family)))
                throw bad(n, line, "a sample outside its family (last TYPE: " + family + ")");
            Map<String, String> labels = m.group(3) == null ? Map.of() : labels(m.group(3), n, line);
            if (!VALUE.matcher(m.group(4)).matches()) throw bad(n, line, "not a number: " + m.group(4));
            double v = m.group(4).endsWith("Inf") ? (m.group(4).startsWith("-") ? Double.NEGATIVE_INFINITY
                    : Double.POSITIVE_INFINITY) : Double.parseDouble(m.group(4));
            if (!seen.add(name + new TreeMap<>(labels))) throw bad(n, line, "a duplicate sample");
            e.samples.add(new Sample(name, labels, v));
        }
        e.checkHistograms();
        return e;
    }

    private static boolean belongs(String sample, String family, String type) {
        if (sample.equals(family)) return !type.equals("histogram");
        switch (type) {
            case "counter": return sample.equals(family + "_total") || sample.equals(family + "_created");
            case "histogram": return sample.equals(family + "_bucket") || sample.equals(family + "_count")
                    || sample.equals(family + "_sum") || sample.equals(family + "_created");
            case "summary": return sample.equals(family + "_count") || sample.equals(family + "_sum");
            default: return false;
        }
    }

    private static Map<String, String> labels(String s, int n, String line) {
        Map<String, String> out = new LinkedHashMap<>();
        int i = 0;
        while (i < s.length()) {
            int eq = s.indexOf('=', i);
            if (eq < 0) throw bad(n, line, "a label without =");
            String k = s.substring(i, eq);
            if (!LABEL_NAME.matcher(k).matches()) throw bad(n, line, "a bad label name " + k);
            if (eq + 1 >= s.length() || s.charAt(eq + 1) != '"') throw bad(n, line, "an unquoted label value");
            StringBuilder v = new StringBuilder();
            int j = eq + 2;
            while (true) {
                if (j >= s.length()) throw bad(n, line, "an unterminated label value");
                char c = s.charAt(j);
                if (c == '"') break;
                if (c == '\\') {
                    char d = j + 1 < s.length() ? s.charAt(j + 1) : 0;
                    if (d == 'n') v.append('\n');
                    else if (d == '\\' || d == '"') v.append(d);
                    else throw bad(n, line, "a bad escape");
                    j += 2;
                    continue;
                }
                v.append(c);
                j++;
            }
            if (out.put(k, v.toString()) != null) throw bad(n, line, "a repeated label " + k);
            i = j + 1;
            if (i < s.length()) {
                if (s.charAt(i) != ',') throw bad(n, line, "labels not separated by ,");
                i++;
            }
        }
        return out;
    }

    private void checkHistograms() {
        for (Map.Entry<String, String> t : types.entrySet()) {
            if (!t.getValue().equals("histogram")) continue;
            Map<Map<String, String>, List<Sample>> byRest = new HashMap<>();
            for (Sample s : samples) {
                if (!s.name().equals(t.getKey() + "_bucket")) continue;
                Map<String, String> rest = new TreeMap<>(s.labels());
                if (rest.remove("le") == null) throw new IllegalArgumentException(t.getKey() + ": a bucket without le");
                byRest.computeIfAbsent(rest, k -> new ArrayList<>()).add(s);
            }
            for (Map.Entry<Map<String, String>, List<Sample>> b : byRest.entrySet()) {
                double lastLe = Double.NEGATIVE_INFINITY;
                double lastCount = 0;
                for (Sample s : b.getValue()) {
                    String leText = s.labels().get("le");
                    double le = leText.equals("+Inf") ? Double.POSITIVE_INFINITY : Double.parseDouble(leText);
                    if (le <= lastLe) throw new IllegalArgumentException(t.getKey() + ": buckets not in increasing le");
                    if (s.value() < lastCount) throw new IllegalArgumentException(t.getKey() + ": buckets not cumulative");
                    lastLe = le;
                    lastCount = s.value();
                }
                if (lastLe != Double.POSITIVE_INFINITY) throw new IllegalArgumentException(t.getKey() + ": no +Inf bucket");
                Double count = value(t.getKey() + "_count", b.getKey());
                if (count == null || count != lastCount)
                    throw new IllegalArgumentException(t.getKey() + ": _count " + count + " is not the +Inf bucket " + lastCount);
            }
        }
    }

    private static IllegalArgumentException bad(int n, String line, String what) {
        return new IllegalArgumentException("line " + n + ": " + what + ": " + line);
    }

    /** The value of the sample with exactly these labels, or null. */
    Double value(String name, Map<String, String> labels) {
        for (Sample s : samples) if (s.name().equals(name) && s.labels().equals(labels)) return s.value();
        return null;
    }

    Double value(String name, String... kv) {
        Map<String, String> l = new HashMap<>();
        for (int i = 0; i < kv.length; i += 2) l.put(kv[i], kv[i + 1]);
        return value(name, l);
    }

    /** The samples of {@code name} (any labels). */
    List<Sample> all(String name) {
        List<Sample> l = new ArrayList<>();
        for (Sample s : samples) if (s.name().equals(name)) l.add(s);
        return l;
    }
}
