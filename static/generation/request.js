// The request page polls its status fragment and swaps it in until the
// request is final (done, faulted or cancelled): no reload needed.
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

  function poll() {
    if (isFinal()) return;
    fetch(url, { headers: { Accept: "text/html" }, credentials: "same-origin", cache: "no-store" })
      .then(function (response) {
        // A redirect means the session ended (the log-in page): keep what is shown.
        if (!response.ok || response.redirected) throw new Error("status " + response.status);
        return response.text();
      })
      .then(function (html) { box.innerHTML = html; })
      .catch(function () { /* a missed poll is retried on the next tick */ })
      .then(function () { if (!isFinal()) setTimeout(poll, INTERVAL_MS); });
  }

  setTimeout(poll, INTERVAL_MS);
})();
