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

    private static final java.awt.Color[] PALETTE = {new java.awt.Color(31, 119, 180), new java.awt.Color(255, 127, 14),
        new java.awt.Color(44, 160, 44), new java.awt.Color(214, 39, 40), new java.awt.Color(148, 103, 189),
        new java.awt.Color(140, 86, 75), new java.awt.Color(227, 119, 194), new java.awt.Color(127, 127, 127),
        new java.awt.Color(188, 189, 34), new java.awt.Color(23, 190, 207)};

    /**
     * Writes, for several labels (presets) with several runs each (seeds), the mean of the runs'
     * curves and, with two or more runs, dashed lines at the 95% interval of that mean, step by step.
     */
    public static void plotMeans(Map<String, List<List<Map<String, Object>>>> runs, Path png) throws IOException {
        System.setProperty("java.awt.headless", "true");
        List<XYChart> charts = new ArrayList<>();
        for (Panel panel : PANELS) {
            for (String metric : panel.metrics()) {
                if (!metric.equals(panel.metrics().get(0))) continue; // one metric a panel: bands would crowd it
                String title = (panel.smoothed() ? panel.title() + " (" + SMOOTHING_WINDOW + "-step mean)" : panel.title())
                        + ", mean and 95% band";
                XYChart chart = new XYChartBuilder().width(560).height(400).title(title).xAxisTitle("step").build();
                chart.getStyler().setLegendPosition(Styler.LegendPosition.OutsideS);
                int colour = 0;
                for (Map.Entry<String, List<List<Map<String, Object>>>> label : runs.entrySet()) {
                    List<double[]> curves = new ArrayList<>();
                    int length = Integer.MAX_VALUE;
                    for (List<Map<String, Object>> records : label.getValue()) {
                        if (records.isEmpty()) continue;
                        double[] y = new double[records.size()];
                        for (int i = 0; i < y.length; i++) y[i] = ((Number) records.get(i).get(metric)).doubleValue();
                        curves.add(panel.smoothed() ? TrailingMean.of(y, SMOOTHING_WINDOW) : y);
                        length = Math.min(length, y.length);
                    }
                    if (curves.isEmpty()) continue;
                    double[] x = new double[length], mean = new double[length], low = new double[length], high = new double[length];
                    for (int i = 0; i < length; i++) {
                        List<Double> values = new ArrayList<>();
                        for (double[] c : curves) values.add(c[i]);
                        Intervals.Interval interval = Intervals.of(values);
                        x[i] = i;
                        mean[i] = interval.mean();
                        low[i] = interval.mean() - interval.halfWidth();
                        high[i] = interval.mean() + interval.halfWidth();
                    }
                    java.awt.Color c = PALETTE[colour++ % PALETTE.length];
                    chart.addSeries(label.getKey(), x, mean).setMarker(SeriesMarkers.NONE).setLineColor(c);
                    if (curves.size() > 1) {
                        for (double[] edge : List.of(low, high)) {
                            chart.addSeries(label.getKey() + (edge == low ? " low" : " high"), x, edge)
                                    .setMarker(SeriesMarkers.NONE).setLineColor(c)
                                    .setLineStyle(org.knowm.xchart.style.lines.SeriesLines.DASH_DASH).setShowInLegend(false);
                        }
                    }
                }
                charts.add(chart);
            }
        }
        BitmapEncoder.saveBitmap(charts, 2, 3, png.toString(), BitmapEncoder.BitmapFormat.PNG);
    }
}
