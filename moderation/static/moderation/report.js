/* Reporting an image: any button with data-report-image opens the one dialog on the page, which
 * posts to /api/v2/images/<id>/report with the session cookie and the CSRF token. The click is
 * caught on the document, so buttons swapped in later (the request page's polling, the arena's
 * next pair) work too. */
(function () {
  var dialog = document.getElementById("report-dialog");
  if (!dialog) return;
  var form = document.getElementById("report-form");
  var status = document.getElementById("report-status");
  var send = document.getElementById("report-send");
  var imageId = null;

  function csrf() {
    var match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }
  function open(id) {
    imageId = id;
    form.reset();
    status.textContent = "";
    send.disabled = false;
    if (dialog.showModal) dialog.showModal(); else dialog.setAttribute("open", "");
  }
  function close() {
    if (dialog.close) dialog.close(); else dialog.removeAttribute("open");
  }
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-report-image]");
    if (!button || !button.dataset.reportImage) return;
    event.preventDefault();
    event.stopPropagation();  // a report button inside a pickable figure is not a pick
    open(button.dataset.reportImage);
  }, true);
  document.getElementById("report-close").addEventListener("click", close);
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var reason = form.querySelector('input[name="reason"]:checked');
    if (!reason || !imageId) { status.textContent = "Pick a reason first."; return; }
    send.disabled = true;
    status.textContent = "Sending…";
    fetch("/api/v2/images/" + encodeURIComponent(imageId) + "/report", {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf() },
      body: JSON.stringify({ reason: reason.value, note: form.elements.note.value }),
    }).then(function (response) {
      return response.json().then(function (data) {
        status.textContent = data.message || (response.ok ? "Report received." : "Something went wrong.");
        status.className = response.ok ? "positive" : "negative";
        if (!response.ok) send.disabled = false;
      });
    }, function () {
      status.textContent = "The report could not be sent; try again.";
      status.className = "negative";
      send.disabled = false;
    });
  });
  // Keys typed in the dialog are not the judging pages' shortcuts.
  dialog.addEventListener("keydown", function (event) { event.stopPropagation(); });
})();
