package io.splitfed.runtime.report.plot;

import io.splitfed.model.io.AtomicFiles;

import org.jfree.chart.ChartFactory;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.plot.PlotOrientation;
import org.jfree.data.category.DefaultCategoryDataset;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

import java.awt.BasicStroke;
import java.awt.Color;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * The report's charts, drawn with JFreeChart and written as PNG: curves per method, grouped
 * bars, and (in {@link PipelineGantt}) the pipeline's timeline.
 */
public final class Charts {

    static {
        System.setProperty("java.awt.headless", "true");
    }

    public static final int WIDTH = 900;
    public static final int HEIGHT = 480;

    private Charts() {}

    /** One line per series, each a list of {x, y} points. */
    public static JFreeChart curves(String title, String xLabel, String yLabel, Map<String, List<double[]>> series) {
        return curves(title, xLabel, yLabel, series, false);
    }

    /** As above; {@code logX}: a logarithmic x axis, for series whose x spans orders of magnitude (points at x &lt;= 0 are left out). */
    public static JFreeChart curves(String title, String xLabel, String yLabel, Map<String, List<double[]>> series, boolean logX) {
        XYSeriesCollection data = new XYSeriesCollection();
        series.forEach((name, points) -> {
            XYSeries s = new XYSeries(name, false, true);
            for (double[] p : points) {
                if (Double.isFinite(p[1]) && (!logX || p[0] > 0)) {
                    s.add(p[0], p[1]);
                }
            }
            data.addSeries(s);
        });
        JFreeChart chart = ChartFactory.createXYLineChart(title, xLabel, yLabel, data, PlotOrientation.VERTICAL, true, false, false);
        var plot = whiteGrid(chart);
        for (int i = 0; i < data.getSeriesCount(); i++) {
            plot.getRenderer().setSeriesStroke(i, new BasicStroke(2f));
        }
        ((org.jfree.chart.axis.NumberAxis) plot.getRangeAxis()).setAutoRangeIncludesZero(false);
        if (logX) {
            plot.setDomainAxis(new org.jfree.chart.axis.LogAxis(xLabel));
        }
        return chart;
    }

    /** Grouped bars: {@code values.get(group).get(series)}. */
    public static JFreeChart bars(String title, String groupLabel, String valueLabel, Map<String, Map<String, Double>> values) {
        DefaultCategoryDataset data = new DefaultCategoryDataset();
        values.forEach((group, bySeries) -> bySeries.forEach((series, v) -> data.addValue(v, series, group)));
        JFreeChart chart = ChartFactory.createBarChart(title, groupLabel, valueLabel, data, PlotOrientation.VERTICAL, true, false, false);
        chart.getCategoryPlot().setBackgroundPaint(Color.WHITE);
        chart.getCategoryPlot().setRangeGridlinePaint(Color.LIGHT_GRAY);
        return chart;
    }

    /** The reports' look for an XY plot: white, with light grey grid lines. */
    private static org.jfree.chart.plot.XYPlot whiteGrid(JFreeChart chart) {
        var plot = chart.getXYPlot();
        plot.setBackgroundPaint(Color.WHITE);
        plot.setDomainGridlinePaint(Color.LIGHT_GRAY);
        plot.setRangeGridlinePaint(Color.LIGHT_GRAY);
        return plot;
    }

    /** A labelled point of a scatter plot. */
    public record Point(double x, double y, String label) {}

    /** Points without lines, one shape per series, each point named beside it. */
    public static JFreeChart scatter(String title, String xLabel, String yLabel, Map<String, List<Point>> series) {
        XYSeriesCollection data = new XYSeriesCollection();
        series.forEach((name, points) -> {
            XYSeries s = new XYSeries(name, false, true);
            points.stream().filter(p -> Double.isFinite(p.x()) && Double.isFinite(p.y())).forEach(p -> s.add(p.x(), p.y()));
            data.addSeries(s);
        });
        JFreeChart chart = ChartFactory.createScatterPlot(title, xLabel, yLabel, data, PlotOrientation.VERTICAL, true, false, false);
        var plot = whiteGrid(chart);
        ((org.jfree.chart.axis.NumberAxis) plot.getRangeAxis()).setAutoRangeIncludesZero(false);
        series.values().forEach(points -> points.stream().filter(p -> Double.isFinite(p.x()) && Double.isFinite(p.y())).forEach(p -> {
            var note = new org.jfree.chart.annotations.XYTextAnnotation("  " + p.label(), p.x(), p.y());
            note.setTextAnchor(org.jfree.chart.ui.TextAnchor.CENTER_LEFT);
            plot.addAnnotation(note);
        }));
        return chart;
    }

    /** Writes {@code chart} as a PNG and returns the file. */
    public static Path png(JFreeChart chart, Path file) {
        AtomicFiles.write(file, out -> ChartUtils.writeChartAsPNG(out, chart, WIDTH, HEIGHT));
        return file;
    }
}
