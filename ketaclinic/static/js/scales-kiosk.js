// Kiosk mode: a button that puts the questionnaire full screen on the clinic's tablet.
(function () {
  "use strict";
  const button = document.getElementById("kiosk-fullscreen");
  if (!button) return;
  if (!document.fullscreenEnabled) { button.hidden = true; return; }
  button.addEventListener("click", function () {
    document.documentElement.requestFullscreen().catch(function () { button.hidden = true; });
  });
})();
