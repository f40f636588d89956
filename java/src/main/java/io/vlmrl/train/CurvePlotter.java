package io.vlmrl.train;

import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.style.markers.SeriesMarkers;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Draws training curves (reward, accuracy, entropy, clip fractions, K(t) over steps) into
 * a PNG grid with XChart, headless.
 */
public final class CurvePlotter {

    /** The panels of curves.png: a title and the metrics drawn in it. */
    private static final List<Map.Entry<String, List<String>>> PANELS = List.of(
            Map.entry("reward", List.of(MetricNames.REWARD_MEAN)),
            Map.entry("accuracy", List.of(MetricNames.ACCURACY)),
            Map.entry("entropy", List.of(MetricNames.ENTROPY)),
            Map.entry("clip fractions", List.of(MetricNames.PG_CLIPFRAC, MetricNames.PG_CLIPFRAC_HIGHER,
                    MetricNames.PG_CLIPFRAC_LOWER)),
            Map.entry("K(t)", List.of(MetricNames.REUSE_K)),
            Map.entry("gate pass rate", List.of(MetricNames.GATE_PASS_RATE)));

    private CurvePlotter() {}

    /** Writes the curves of one run's records. */
    public static void plotRun(List<Map<String, Object>> records, Path png) throws IOException {
        plotRuns(Map.of("", records), png);
    }

    /** Writes the curves of several runs (label → records), one series per run in each panel. */
    public static void plotRuns(Map<String, List<Map<String, Object>>> runs, Path png) throws IOException {
        System.setProperty("java.awt.headless", "true");
        List<XYChart> charts = new ArrayList<>();
        for (Map.Entry<String, List<String>> panel : PANELS) {
            XYChart chart = new XYChartBuilder().width(480).height(320).title(panel.getKey()).xAxisTitle("step").build();
            chart.getStyler().setMarkerSize(3);
            for (Map.Entry<String, List<Map<String, Object>>> run : runs.entrySet()) {
                for (String metric : panel.getValue()) {
                    List<Map<String, Object>> records = run.getValue();
                    if (records.isEmpty()) continue;
                    double[] x = new double[records.size()];
                    double[] y = new double[records.size()];
                    for (int i = 0; i < records.size(); i++) {
                        x[i] = ((Number) records.get(i).get("step")).doubleValue();
                        y[i] = ((Number) records.get(i).get(metric)).doubleValue();
                    }
                    String name = run.getKey().isEmpty() ? metric : run.getKey() + " " + metric;
                    chart.addSeries(name, x, y).setMarker(SeriesMarkers.NONE);
                }
            }
            charts.add(chart);
        }
        BitmapEncoder.saveBitmap(charts, 2, 3, png.toString(), BitmapEncoder.BitmapFormat.PNG);
    }
}
