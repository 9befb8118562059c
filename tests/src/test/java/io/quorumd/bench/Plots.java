package io.quorumd.bench;

import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.markers.SeriesMarkers;

import java.awt.BasicStroke;
import java.awt.Color;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/** The report's PNGs, drawn with XChart (headless: java.awt.headless=true is set by BenchMain). */
final class Plots {
    private Plots() {}

    /** One empirical CDF per series (values in ms, log x axis), with optional vertical target lines. */
    static void cdf(Path png, String title, String xTitle, Map<String, List<Double>> series, Map<String, Double> targets)
            throws IOException {
        XYChart chart = new XYChartBuilder().width(1000).height(600).title(title).xAxisTitle(xTitle)
                .yAxisTitle("fraction of trials").build();
        chart.getStyler().setLegendPosition(Styler.LegendPosition.InsideNW);
        chart.getStyler().setXAxisLogarithmic(true);
        chart.getStyler().setYAxisMin(0.0);
        chart.getStyler().setYAxisMax(1.0);
        chart.getStyler().setChartBackgroundColor(Color.WHITE);
        chart.getStyler().setPlotBackgroundColor(Color.WHITE);
        double lo = Double.MAX_VALUE;
        double hi = 0;
        for (Map.Entry<String, List<Double>> e : series.entrySet()) {
            double[] v = e.getValue().stream().filter(d -> d != null && !Double.isNaN(d) && d > 0)
                    .mapToDouble(Double::doubleValue).sorted().toArray();
            if (v.length == 0) continue;
            double[] y = new double[v.length];
            for (int i = 0; i < v.length; i++) y[i] = (i + 1.0) / v.length;
            lo = Math.min(lo, v[0]);
            hi = Math.max(hi, v[v.length - 1]);
            XYSeries s = chart.addSeries(e.getKey() + " (n=" + v.length + ")", v, y);
            s.setXYSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Step);
            s.setMarker(SeriesMarkers.CIRCLE);
        }
        for (Map.Entry<String, Double> t : targets.entrySet()) {
            XYSeries s = chart.addSeries(t.getKey(), new double[] {t.getValue(), t.getValue()}, new double[] {0, 1});
            s.setXYSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Line);
            s.setMarker(SeriesMarkers.NONE);
            s.setLineStyle(new BasicStroke(1.5f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10f, new float[] {6f, 4f}, 0f));
            lo = Math.min(lo, t.getValue());
            hi = Math.max(hi, t.getValue());
        }
        if (hi > 0) {
            chart.getStyler().setXAxisMin(Math.max(1, lo / 1.5));
            chart.getStyler().setXAxisMax(hi * 1.5);
        }
        save(chart, png);
    }

    /** y against cluster size: one line per series, optional horizontal target. */
    static void bySize(Path png, String title, String yTitle, int[] sizes, Map<String, double[]> series, String targetName,
                       double target) throws IOException {
        XYChart chart = new XYChartBuilder().width(800).height(500).title(title).xAxisTitle("cluster size (voters)")
                .yAxisTitle(yTitle).build();
        chart.getStyler().setLegendPosition(Styler.LegendPosition.InsideNW);
        chart.getStyler().setChartBackgroundColor(Color.WHITE);
        chart.getStyler().setPlotBackgroundColor(Color.WHITE);
        chart.getStyler().setYAxisMin(0.0);
        double[] x = Arrays.stream(sizes).asDoubleStream().toArray();
        double hi = 0;
        for (Map.Entry<String, double[]> e : series.entrySet()) {
            XYSeries s = chart.addSeries(e.getKey(), x, e.getValue());
            s.setMarker(SeriesMarkers.CIRCLE);
            for (double v : e.getValue()) if (!Double.isNaN(v)) hi = Math.max(hi, v);
        }
        if (targetName != null) {
            XYSeries s = chart.addSeries(targetName, new double[] {x[0], x[x.length - 1]}, new double[] {target, target});
            s.setMarker(SeriesMarkers.NONE);
            s.setLineStyle(new BasicStroke(1.5f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10f, new float[] {6f, 4f}, 0f));
            hi = Math.max(hi, target);
        }
        chart.getStyler().setYAxisMax(hi * 1.15 + 1e-9);
        save(chart, png);
    }

    private static void save(XYChart chart, Path png) throws IOException {
        String name = png.toString();
        if (!name.endsWith(".png")) throw new IllegalArgumentException("a plot's file name ends with .png, got " + png);
        BitmapEncoder.saveBitmap(chart, name.substring(0, name.length() - 4), BitmapEncoder.BitmapFormat.PNG);
    }
}
