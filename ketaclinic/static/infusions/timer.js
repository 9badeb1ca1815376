// The session chart's infusion timer: minutes and seconds since the infusion started (or, in
// recovery, since it stopped), counted in the browser from the server's instant, so no zone
// enters the count. Served by the app (CSP script-src 'self'); no library.
(function () {
  "use strict";
  const timers = document.querySelectorAll(".infusion-timer[data-since]");
  if (!timers.length) return;
  function pad(n) { return n < 10 ? "0" + n : String(n); }
  function tick() {
    timers.forEach(function (el) {
      const since = Date.parse(el.dataset.since);
      const clock = el.querySelector(".timer-clock");
      if (isNaN(since) || !clock) return;
      const seconds = Math.max(0, Math.floor((Date.now() - since) / 1000));
      const h = Math.floor(seconds / 3600);
      const m = Math.floor((seconds % 3600) / 60);
      clock.textContent = (h ? h + ":" + pad(m) : String(m)) + ":" + pad(seconds % 60);
      const planned = Number(el.dataset.planned || 0);
      el.classList.toggle("timer-over", planned > 0 && seconds > planned * 60);
    });
  }
  tick();
  window.setInterval(tick, 1000);
})();
