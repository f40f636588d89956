package io.vlmrl.bench.report;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** One entry of a JMH JSON result file: which benchmark, its parameters, mean time per op. */
public final class JmhResult {

    /** Simple class name, e.g. "PolicyLossBenchmark". */
    public final String benchmarkClass;
    /** Method name, e.g. "fused". */
    public final String method;
    public final Map<String, String> params;
    /** Mean time per operation in seconds. */
    public final double secondsPerOp;
    /** JMH's 99.9% confidence half-width, in seconds (NaN with too few iterations). */
    public final double errorSeconds;
    /** Secondary metrics (JMH aux counters) as events per second, by name. */
    public final Map<String, Double> secondaryPerSecond;

    JmhResult(String benchmarkClass, String method, Map<String, String> params, double secondsPerOp,
              double errorSeconds, Map<String, Double> secondaryPerSecond) {
        this.secondaryPerSecond = secondaryPerSecond;
        this.benchmarkClass = benchmarkClass;
        this.method = method;
        this.params = params;
        this.secondsPerOp = secondsPerOp;
        this.errorSeconds = errorSeconds;
    }

    public String param(String name) {
        String value = params.get(name);
        if (value == null) {
            throw new IllegalArgumentException(benchmarkClass + "." + method + " has no parameter '" + name
                    + "', only " + params.keySet());
        }
        return value;
    }

    /** Reads every entry of a JMH result file written with -rf json (average-time mode). */
    public static List<JmhResult> read(Path file) throws IOException {
        JsonNode root = new ObjectMapper().readTree(file.toFile());
        if (!root.isArray()) {
            throw new IllegalArgumentException(file + ": expected a JMH JSON array, got " + root.getNodeType());
        }
        List<JmhResult> results = new ArrayList<>();
        for (JsonNode entry : root) {
            String full = entry.get("benchmark").asText();
            int lastDot = full.lastIndexOf('.');
            String className = full.substring(0, lastDot);
            String simpleClass = className.substring(className.lastIndexOf('.') + 1);
            Map<String, String> params = new TreeMap<>();
            JsonNode paramNode = entry.get("params");
            if (paramNode != null) {
                for (Iterator<Map.Entry<String, JsonNode>> it = paramNode.fields(); it.hasNext(); ) {
                    Map.Entry<String, JsonNode> p = it.next();
                    params.put(p.getKey(), p.getValue().asText());
                }
            }
            JsonNode metric = entry.get("primaryMetric");
            String unit = metric.get("scoreUnit").asText();
            double scale = secondsPerUnit(unit);
            double error = metric.get("scoreError").asDouble(Double.NaN);
            Map<String, Double> secondary = new TreeMap<>();
            JsonNode secondaryNode = entry.get("secondaryMetrics");
            if (secondaryNode != null) {
                for (Iterator<Map.Entry<String, JsonNode>> it = secondaryNode.fields(); it.hasNext(); ) {
                    Map.Entry<String, JsonNode> m = it.next();
                    secondary.put(m.getKey(), perSecond(m.getValue().get("score").asDouble(),
                            m.getValue().get("scoreUnit").asText()));
                }
            }
            results.add(new JmhResult(simpleClass, full.substring(lastDot + 1), params,
                    metric.get("score").asDouble() * scale, error * scale, secondary));
        }
        return results;
    }

    /** An aux counter's score as events per second: JMH writes "ms/op" (time per event) in
     *  average-time mode and "ops/ms" in throughput mode. */
    private static double perSecond(double score, String unit) {
        if (unit.startsWith("ops/")) {
            return score / secondsPerUnit(unit.substring(4) + "/op");
        }
        return 1.0 / (score * secondsPerUnit(unit));
    }

    private static double secondsPerUnit(String unit) {
        switch (unit) {
            case "s/op":
                return 1.0;
            case "ms/op":
                return 1e-3;
            case "us/op":
                return 1e-6;
            case "ns/op":
                return 1e-9;
            default:
                throw new IllegalArgumentException("score unit: expected s/op, ms/op, us/op or ns/op "
                        + "(run JMH in average-time mode), got " + unit);
        }
    }
}
