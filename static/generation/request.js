// The request page polls its status fragment and swaps it in until the
// request is final (done, faulted or cancelled): no reload needed. Once the
// owner's pair is done, the verdict panel is loaded under it (#verdict).
(function () {
  "use strict";
  var box = document.getElementById("request-status");
  if (!box) return;
  var url = box.getAttribute("data-status-url");
  var INTERVAL_MS = 1500;

  function isFinal() {
    var block = box.querySelector(".status-block");
    return block && block.getAttribute("data-final") === "1";
  }

  function loadVerdict() {
    var slot = box.querySelector("#verdict[data-panel-url]");
    if (!slot || slot.dataset.loaded || !window.HordeJudgeForm) return;
    slot.dataset.loaded = "1";
    fetch(slot.getAttribute("data-panel-url"), { credentials: "same-origin", cache: "no-store" })
      .then(function (response) {
        if (!response.ok || response.redirected) throw new Error("status " + response.status);
        return response.text();
      })
      .then(function (html) {
        slot.innerHTML = html;   // the link to the judge page stays when this fails
        slot.classList.add("loaded");
        var form = slot.querySelector("form.judge-form");
        if (form) {
          window.HordeJudgeForm.install(form, {
            left: box.querySelector(".request-image.pick-left"),
            right: box.querySelector(".request-image.pick-right"),
          });
        }
        if (location.hash === "#verdict") slot.scrollIntoView({ block: "start" });
      })
      .catch(function () { delete slot.dataset.loaded; });
  }

  function poll() {
    if (isFinal()) return;
    fetch(url, { headers: { Accept: "text/html" }, credentials: "same-origin", cache: "no-store" })
      .then(function (response) {
        // A redirect means the session ended (the log-in page): keep what is shown.
        if (!response.ok || response.redirected) throw new Error("status " + response.status);
        return response.text();
      })
      .then(function (html) { box.innerHTML = html; loadVerdict(); })
      .catch(function () { /* a missed poll is retried on the next tick */ })
      .then(function () { if (!isFinal()) setTimeout(poll, INTERVAL_MS); });
  }

  loadVerdict();
  setTimeout(poll, INTERVAL_MS);
})();
