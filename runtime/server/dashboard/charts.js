// The dashboard's live charts: the last minute of the show's `stats` events (frame
// time, late and dropped frames, CPU), redrawn once per event. Loaded before app.js.
"use strict";

const CHART_COLOURS = { mean: "#3ac47d", max: "#f0c040", budget: "#e83a3a", late: "#f0c040", dropped: "#e83a3a", cpu: "#4aa3ff" };

function drawCharts(event) {
  const previous = state.samples.at(-1);
  const delta = (key) => (previous ? Math.max(0, event[key] - previous.event[key]) : 0);
  state.samples.push({ event, late: delta("frames_late"), dropped: delta("frames_dropped") });
  if (state.samples.length > CHART_SECONDS) state.samples.shift();
  const series = (key, pick) => ({ key, values: state.samples.map(pick) });
  drawChart($("chart-frame"), [series("budget", (s) => s.event.budget_ms), series("max", (s) => s.event.frame_ms_max), series("mean", (s) => s.event.frame_ms_mean)]);
  drawChart($("chart-drops"), [series("dropped", (s) => s.dropped), series("late", (s) => s.late)]);
  if (typeof event.cpu_percent === "number") {
    $("chart-cpu-box").hidden = false;
    drawChart($("chart-cpu"), [series("cpu", (s) => s.event.cpu_percent ?? 0)]);
    $("rss").textContent = typeof event.rss_bytes === "number" ? `· ${(event.rss_bytes / 1048576).toFixed(0)} MiB resident` : "";
  }
}

/** A line per series over the last CHART_SECONDS slots, scaled to the largest value. */
function drawChart(canvas, lines) {
  const width = Math.max(60, Math.round(canvas.clientWidth * devicePixelRatio));
  const height = Math.round(90 * devicePixelRatio);
  if (canvas.width !== width || canvas.height !== height) Object.assign(canvas, { width, height });
  const g = canvas.getContext("2d");
  g.clearRect(0, 0, width, height);
  const top = Math.max(1, ...lines.flatMap((l) => l.values)) * 1.15;
  const pad = 4 * devicePixelRatio;
  const x = (i, n) => width - pad - (n - 1 - i) * ((width - 2 * pad) / (CHART_SECONDS - 1));
  const y = (v) => height - pad - (v / top) * (height - 2 * pad);
  g.lineWidth = 1.5 * devicePixelRatio;
  for (const { key, values } of lines) {
    g.strokeStyle = CHART_COLOURS[key];
    g.setLineDash(key === "budget" ? [4 * devicePixelRatio, 3 * devicePixelRatio] : []);
    g.beginPath();
    values.forEach((v, i) => (i ? g.lineTo(x(i, values.length), y(v)) : g.moveTo(x(i, values.length), y(v))));
    if (values.length === 1) g.lineTo(x(0, 1) - 2, y(values[0]));
    g.stroke();
  }
  g.setLineDash([]);
  g.fillStyle = "#9aa1ad";
  g.font = `${10 * devicePixelRatio}px system-ui, sans-serif`;
  g.fillText(`${(top / 1.15).toFixed(top < 10 ? 1 : 0)}`, pad, pad + 10 * devicePixelRatio);
  canvas.dataset.points = String(lines[0].values.length);
  canvas.dataset.last = JSON.stringify(Object.fromEntries(lines.map((l) => [l.key, l.values.at(-1)])));
}

