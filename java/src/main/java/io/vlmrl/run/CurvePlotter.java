package io.vlmrl.run;

import io.vlmrl.rl.MetricNames;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.markers.SeriesMarkers;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Draws training curves (reward, accuracy, entropy, clip fractions, K(t) over steps) into
 * a PNG grid with XChart, headless. Per-step metrics of 64 sampled responses are noisy, so all
 * panels but K(t) show a trailing mean over {@value #SMOOTHING_WINDOW} steps; metrics.jsonl keeps
 * the raw values.
 */
public final class CurvePlotter {
    static final int SMOOTHING_WINDOW = 20;

    /** A panel of curves.png: its title, the metrics drawn in it and whether they are smoothed. */
    private record Panel(String title, List<String> metrics, boolean smoothed) {
    }

    private static final List<Panel> PANELS = List.of(
            new Panel("reward", List.of(MetricNames.REWARD_MEAN), true),
            new Panel("accuracy", List.of(MetricNames.ACCURACY), true),
            new Panel("entropy", List.of(MetricNames.ENTROPY), true),
            new Panel("clip fractions", List.of(MetricNames.PG_CLIPFRAC, MetricNames.PG_CLIPFRAC_HIGHER,
                    MetricNames.PG_CLIPFRAC_LOWER), true),
            new Panel("K(t)", List.of(MetricNames.REUSE_K), false),
            new Panel("gate pass rate", List.of(MetricNames.GATE_PASS_RATE), true));

    private CurvePlotter() {}

    /** Writes the curves of one run's records. */
    public static void plotRun(List<Map<String, Object>> records, Path png) throws IOException {
        plotRuns(Map.of("", records), png);
    }

    /** Writes the curves of several runs (label → records), one series per run in each panel. */
    public static void plotRuns(Map<String, List<Map<String, Object>>> runs, Path png) throws IOException {
        System.setProperty("java.awt.headless", "true");
        List<XYChart> charts = new ArrayList<>();
        for (Panel panel : PANELS) {
            String title = panel.smoothed() ? panel.title() + " (" + SMOOTHING_WINDOW + "-step mean)" : panel.title();
            XYChart chart = new XYChartBuilder().width(560).height(400).title(title).xAxisTitle("step").build();
            chart.getStyler().setMarkerSize(3);
            chart.getStyler().setLegendPosition(Styler.LegendPosition.OutsideS);
            for (Map.Entry<String, List<Map<String, Object>>> run : runs.entrySet()) {
                for (String metric : panel.metrics()) {
                    List<Map<String, Object>> records = run.getValue();
                    if (records.isEmpty()) continue;
                    double[] x = new double[records.size()];
                    double[] y = new double[records.size()];
                    for (int i = 0; i < records.size(); i++) {
                        x[i] = ((Number) records.get(i).get("step")).doubleValue();
                        y[i] = ((Number) records.get(i).get(metric)).doubleValue();
                    }
                    String name = run.getKey().isEmpty() ? metric : run.getKey() + " " + metric;
                    chart.addSeries(name, x, panel.smoothed() ? TrailingMean.of(y, SMOOTHING_WINDOW) : y)
                            .setMarker(SeriesMarkers.NONE);
                }
            }
            charts.add(chart);
        }
        BitmapEncoder.saveBitmap(charts, 2, 3, png.toString(), BitmapEncoder.BitmapFormat.PNG);
    }
}
