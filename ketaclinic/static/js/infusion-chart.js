// Session chart: vital signs over time (Chart.js), the protocol's thresholds as horizontal lines
// and the chart's events (start, rate changes, pauses, stop, side effects, discharge) as
// vertical lines, from the JSON the page holds (json_script "session-chart-data").
(function () {
  "use strict";
  const source = document.getElementById("session-chart-data");
  const canvas = document.getElementById("vitals-chart");
  if (!source || !canvas || typeof Chart === "undefined") return;
  const data = JSON.parse(source.textContent);
  const COLOURS = {
    systolic_mmhg: "rgb(198, 40, 40)", diastolic_mmhg: "rgb(239, 108, 0)",
    heart_rate_bpm: "rgb(21, 101, 192)", spo2_percent: "rgb(46, 125, 50)",
    respiratory_rate: "rgb(106, 27, 154)", moaas: "rgb(66, 66, 66)",
  };
  const annotations = {};
  data.thresholds.forEach(function (t, i) {
    annotations["threshold-" + i] = {
      type: "line", yMin: t.value, yMax: t.value,
      borderColor: COLOURS[t.field] || "rgb(0, 0, 0)", borderWidth: 1,
      borderDash: t.predose ? [2, 4] : [8, 4],
      label: { display: true, content: t.label, position: "end", font: { size: 10 } },
    };
  });
  data.events.forEach(function (e, i) {
    annotations["event-" + i] = {
      type: "line", xMin: e.x, xMax: e.x, borderColor: "rgba(0, 0, 0, 0.6)", borderWidth: 2,
      label: { display: true, content: e.label, position: "start", font: { size: 10 } },
    };
  });
  new Chart(canvas, {
    type: "line",
    data: {
      datasets: data.series.map(function (s) {
        return {
          label: s.label, data: s.points, parsing: false, tension: 0, pointRadius: 3,
          borderColor: COLOURS[s.field], backgroundColor: COLOURS[s.field],
        };
      }),
    },
    options: {
      animation: false, responsive: true, maintainAspectRatio: false,
      scales: {
        x: { type: "linear", ticks: { callback: function (v) {
          return new Date(v).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
        } } },
        y: { beginAtZero: true },
      },
      plugins: { annotation: { annotations: annotations } },
    },
  });
})();
