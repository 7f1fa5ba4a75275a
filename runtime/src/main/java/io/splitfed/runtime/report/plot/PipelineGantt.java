package io.splitfed.runtime.report.plot;

import io.splitfed.actors.metrics.TimelineEvent;

import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.axis.SymbolAxis;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.xy.StandardXYBarPainter;
import org.jfree.chart.renderer.xy.XYBarRenderer;
import org.jfree.data.xy.XYIntervalSeries;
import org.jfree.data.xy.XYIntervalSeriesCollection;

import java.awt.Color;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * The pipeline as a Gantt chart: one lane per device and per server shard, a bar for every
 * device forward, every micro-batch on the wire or queued at the server (thin), every device
 * backward (SFL), and every server step, over one round's time.
 */
public final class PipelineGantt {

    private PipelineGantt() {}

    public static JFreeChart of(String title, List<TimelineEvent> events) {
        TreeSet<String> devices = new TreeSet<>((a, b) -> Integer.compare(number(a), number(b)));
        TreeSet<String> shards = new TreeSet<>((a, b) -> Integer.compare(number(a), number(b)));
        long t0 = Long.MAX_VALUE;
        for (TimelineEvent e : events) {
            (e.where().startsWith("shard") ? shards : devices).add(e.where());
            t0 = Math.min(t0, e.micros() - e.spanMicros());
        }
        List<String> lanes = new ArrayList<>(shards);
        lanes.addAll(devices);
        Map<String, Integer> lane = new HashMap<>();
        for (int i = 0; i < lanes.size(); i++) {
            lane.put(lanes.get(i), i);
        }
        XYIntervalSeries forward = new XYIntervalSeries("device forward / local step");
        XYIntervalSeries waiting = new XYIntervalSeries("sent, waiting for the server");
        XYIntervalSeries backward = new XYIntervalSeries("device backward (SFL)");
        XYIntervalSeries server = new XYIntervalSeries("server step");
        Map<String, Long> sent = new HashMap<>();
        for (TimelineEvent e : events) {
            double end = (e.micros() - t0) / 1e6;
            double start = end - e.spanMicros() / 1e6;
            int y = lane.get(e.where());
            String key = e.device() + "/" + e.round() + "/" + e.seq();
            switch (e.stage()) {
                case COMPUTED -> forward.add(start, start, end, y, y - 0.35, y + 0.35);
                case BACKWARD -> backward.add(start, start, end, y, y - 0.35, y + 0.35);
                case STEP -> server.add(start, start, end, y, y - 0.35, y + 0.35);
                case SENT -> sent.put(key, e.micros());
                case ANSWERED -> {
                    Long s = sent.remove(key);
                    if (s != null) {
                        double from = (s - t0) / 1e6;
                        waiting.add(from, from, end, y, y - 0.08, y + 0.08);
                    }
                }
                default -> { }
            }
        }
        XYIntervalSeriesCollection data = new XYIntervalSeriesCollection();
        data.addSeries(waiting);
        data.addSeries(forward);
        data.addSeries(backward);
        data.addSeries(server);
        XYBarRenderer renderer = new XYBarRenderer();
        renderer.setUseYInterval(true);
        renderer.setShadowVisible(false);
        renderer.setBarPainter(new StandardXYBarPainter());
        renderer.setDrawBarOutline(false);
        renderer.setSeriesPaint(0, new Color(180, 180, 180));
        renderer.setSeriesPaint(1, new Color(31, 119, 180));
        renderer.setSeriesPaint(2, new Color(44, 160, 44));
        renderer.setSeriesPaint(3, new Color(214, 39, 40));
        SymbolAxis laneAxis = new SymbolAxis("", lanes.toArray(new String[0]));
        laneAxis.setGridBandsVisible(false);
        XYPlot plot = new XYPlot(data, new NumberAxis("seconds into the round"), laneAxis, renderer);
        plot.setBackgroundPaint(Color.WHITE);
        plot.setDomainGridlinePaint(Color.LIGHT_GRAY);
        return new JFreeChart(title, JFreeChart.DEFAULT_TITLE_FONT, plot, true);
    }

    /** The events of one round, at most {@code limit} of them from its start, for a readable chart. */
    public static List<TimelineEvent> sample(List<TimelineEvent> timeline, int round, int limit) {
        return timeline.stream().filter(e -> e.round() == round).limit(limit).toList();
    }

    private static int number(String where) {
        int dash = where.lastIndexOf('-');
        try {
            return Integer.parseInt(where.substring(dash + 1));
        } catch (NumberFormatException e) {
            return Integer.MAX_VALUE;
        }
    }
}
