// Rating scale trends: one Chart.js line chart per instrument, from the JSON the page holds
// (json_script "trend-data"): totals over time, severity bands shaded, infusion sessions as
// vertical lines, response and remission thresholds as horizontal lines.
(function () {
  "use strict";
  const source = document.getElementById("trend-data");
  if (!source || typeof Chart === "undefined") return;
  const trends = JSON.parse(source.textContent);
  const BAND_COLOURS = [
    "rgba(46, 125, 50, 0.13)", "rgba(249, 168, 37, 0.16)", "rgba(239, 108, 0, 0.16)",
    "rgba(198, 40, 40, 0.16)", "rgba(136, 14, 79, 0.20)", "rgba(74, 20, 140, 0.20)",
  ];
  const DAY_MS = 24 * 3600 * 1000;

  function isoDay(ms) { return new Date(ms).toISOString().slice(0, 10); }

  function annotations(trend) {
    const found = {};
    trend.bands.forEach(function (band, i) {
      found["band-" + i] = {
        type: "box",
        yMin: Math.max(trend.min, band.low - 0.5),
        yMax: Math.min(trend.max, band.high + 0.5),
        backgroundColor: BAND_COLOURS[i % BAND_COLOURS.length],
        borderWidth: 0,
        drawTime: "beforeDatasetsDraw",
        label: { display: true, content: band.label, position: { x: "start", y: "center" },
                 color: "rgba(0, 0, 0, 0.55)", font: { size: 11 } },
      };
    });
    trend.infusions.forEach(function (ms, i) {
      found["infusion-" + i] = {
        type: "line", xMin: ms, xMax: ms, borderColor: "rgba(21, 101, 192, 0.8)",
        borderWidth: 2, borderDash: [4, 4],
        label: { display: i === 0, content: "Infusion", position: "start" },
      };
    });
    if (trend.response) {
      found.response = {
        type: "line", yMin: trend.response.value, yMax: trend.response.value,
        borderColor: "rgba(46, 125, 50, 0.9)", borderWidth: 2, borderDash: [8, 4],
        label: { display: true, content: trend.response.label, position: "end" },
      };
    }
    if (trend.remission) {
      found.remission = {
        type: "line", yMin: trend.remission.value, yMax: trend.remission.value,
        borderColor: "rgba(27, 94, 32, 0.9)", borderWidth: 2,
        label: { display: true, content: trend.remission.label, position: "end" },
      };
    }
    return found;
  }

  function xRange(trend) {
    const xs = trend.points.map(function (p) { return p.x; }).concat(trend.infusions);
    const low = Math.min.apply(null, xs), high = Math.max.apply(null, xs);
    const pad = Math.max(DAY_MS, (high - low) * 0.04);
    return { min: low - pad, max: high + pad };
  }

  const charts = [];
  trends.forEach(function (trend) {
    const canvas = document.querySelector('canvas[data-trend="' + trend.code + '"]');
    if (!canvas || trend.points.length === 0) return;
    const range = xRange(trend);
    charts.push(new Chart(canvas, {
      type: "line",
      data: {
        datasets: [{
          label: "Total", data: trend.points, parsing: false,
          borderColor: "rgb(33, 33, 33)", backgroundColor: "rgb(33, 33, 33)",
          pointRadius: 4, tension: 0,
        }],
      },
      options: {
        animation: false,
        responsive: true,
        maintainAspectRatio: false,
        scales: {
          x: { type: "linear", min: range.min, max: range.max,
               ticks: { callback: function (value) { return isoDay(value); }, maxTicksLimit: 8 } },
          y: { min: trend.min, max: trend.max, title: { display: true, text: "Total" } },
        },
        plugins: {
          legend: { display: false },
          tooltip: { callbacks: { title: function (items) { return isoDay(items[0].parsed.x); } } },
          annotation: { annotations: annotations(trend) },
        },
      },
    }));
  });
  // Paper is narrower than the screen: redraw for it, and back after printing.
  window.addEventListener("beforeprint", function () { charts.forEach(function (c) { c.resize(); }); });
  window.addEventListener("afterprint", function () { charts.forEach(function (c) { c.resize(); }); });
})();
