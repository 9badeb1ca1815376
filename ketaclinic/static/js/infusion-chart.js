// Session chart: vital signs over time (Chart.js), one panel per scale (BP and HR, SpO2, RR,
// MOAA/S), each with the protocol's thresholds as horizontal lines and the chart's events as
// vertical lines, from the JSON the page holds (json_script "session-chart-data"). The time
// axis's bounds come from the server (never collapsed, see rules/vitals_panels.py) and its
// labels are 24-hour times in the clinic's zone, whatever the browser's zone.
(function () {
  "use strict";
  const source = document.getElementById("session-chart-data");
  if (!source || typeof Chart === "undefined") return;
  const data = JSON.parse(source.textContent);
  const COLOURS = {
    systolic_mmhg: "rgb(198, 40, 40)", diastolic_mmhg: "rgb(230, 81, 0)",
    heart_rate_bpm: "rgb(21, 101, 192)", spo2_percent: "rgb(46, 125, 50)",
    respiratory_rate: "rgb(106, 27, 154)", moaas: "rgb(66, 66, 66)",
  };
  const clock = new Intl.DateTimeFormat("en-GB", {
    timeZone: data.zone, hour: "2-digit", minute: "2-digit", hourCycle: "h23",
  });
  data.panels.forEach(function (panel) {
    const canvas = document.getElementById("vitals-panel-" + panel.key);
    if (!canvas) return;
    const annotations = {};
    panel.thresholds.forEach(function (t, i) {
      annotations["threshold-" + i] = {
        type: "line", yMin: t.value, yMax: t.value,
        borderColor: COLOURS[t.field] || "rgb(0, 0, 0)", borderWidth: 1,
        borderDash: t.predose ? [2, 4] : [8, 4],
        label: { display: true, content: t.label, position: t.predose ? "start" : "end",
                 font: { size: 10 }, padding: 2, backgroundColor: "rgba(255,255,255,0.85)", color: "#333" },
      };
    });
    data.events.forEach(function (e, i) {
      annotations["event-" + i] = {
        type: "line", xMin: e.x, xMax: e.x, borderColor: "rgba(0, 0, 0, 0.45)", borderWidth: 1,
        // Staggered, so that events close in time do not print over each other.
        label: { display: panel.key === "bp_hr", content: e.label, position: "start",
                 yAdjust: (i % 3) * 16, font: { size: 10 } },
      };
    });
    new Chart(canvas, {
      type: "line",
      data: {
        datasets: panel.series.map(function (s) {
          return {
            label: s.label, data: s.points, parsing: false, tension: 0, pointRadius: 3,
            borderColor: COLOURS[s.field], backgroundColor: COLOURS[s.field],
          };
        }),
      },
      options: {
        animation: false, responsive: true, maintainAspectRatio: false,
        scales: {
          x: { type: "linear", min: data.x_min, max: data.x_max,
               ticks: { stepSize: data.x_step, callback: function (v) { return clock.format(new Date(v)); } } },
          y: { min: panel.y_min, max: panel.y_max, ticks: panel.step ? { stepSize: panel.step } : {} },
        },
        plugins: {
          legend: { display: panel.series.length > 1, labels: { boxWidth: 12, font: { size: 11 } } },
          tooltip: { callbacks: { title: function (items) {
            return items.length ? clock.format(new Date(items[0].parsed.x)) : "";
          } } },
          annotation: { annotations: annotations },
        },
      },
    });
  });
})();
