/* Single-image rating: talks to the ratings service API (/api/v1/rating/*) with the
 * session cookie and the CSRF token. Keys: 1-9 and 0 (= 10) set the rating; Q W E R T Y
 * set artifacts 0-5; Enter rates; S asks for another image. */
(function () {
  var image = document.getElementById("rate-image");
  var submit = document.getElementById("rate-submit");
  var current = null;
  var rating = null;
  var artifacts = null;
  var busy = false;
  var count = 0;
  var kudos = 0;
  var artifactKeys = {};
  document.querySelectorAll("[data-artifacts]").forEach(function (button) {
    artifactKeys[button.dataset.key] = parseInt(button.dataset.artifacts, 10);
  });

  function csrf() {
    var match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }
  function api(method, url, body) {
    return fetch(url, {
      method: method,
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf() },
      body: body ? JSON.stringify(body) : undefined,
    }).then(function (response) {
      return response.json().then(function (data) {
        if (!response.ok) { var error = new Error(data.message || "Error"); error.rc = data.rc; throw error; }
        return data;
      });
    });
  }
  function status(text) { document.getElementById("rate-status").textContent = text || ""; }
  function press(selector, attribute, value) {
    document.querySelectorAll(selector).forEach(function (button) {
      button.setAttribute("aria-pressed", String(parseInt(button.getAttribute(attribute), 10) === value));
    });
  }
  function setRating(value) { rating = value; press("[data-rating]", "data-rating", value); submit.disabled = !current; }
  function setArtifacts(value) { artifacts = value; press("[data-artifacts]", "data-artifacts", value); }
  function reset() { setRating(null); setArtifacts(null); submit.disabled = true; }

  function next() {
    busy = true;
    return api("GET", "/api/v1/rating/new").then(function (data) {
      current = data;
      image.src = data.url;
      image.hidden = false;
      image.dataset.imageId = data.id;
      document.getElementById("rate-empty").hidden = true;
    }).catch(function (error) {
      current = null;
      image.hidden = true;
      image.removeAttribute("data-image-id");
      if (error.rc === "NoImageToRate") document.getElementById("rate-empty").hidden = false;
      else status(error.message);
    }).then(function () { busy = false; reset(); });
  }
  function rate() {
    if (busy || !current) return;
    if (rating === null) { status("Choose a rating first (1-9, 0 = 10)."); return; }
    busy = true;
    var body = { rating: rating };
    if (artifacts !== null) body.artifacts = artifacts;
    api("POST", "/api/v1/rating/" + current.id, body).then(function (data) {
      count += 1;
      kudos += data.reward;
      document.getElementById("rate-count").textContent = count;
      document.getElementById("rate-kudos").textContent = kudos;
      status("Rated " + rating + (artifacts !== null ? ", artifacts " + artifacts : "") + ": +" + data.reward + " kudos");
      return next();
    }).catch(function (error) { busy = false; status(error.message); });
  }

  document.querySelectorAll("[data-rating]").forEach(function (button) {
    button.addEventListener("click", function () { setRating(parseInt(button.dataset.rating, 10)); });
  });
  document.querySelectorAll("[data-artifacts]").forEach(function (button) {
    button.addEventListener("click", function () { setArtifacts(parseInt(button.dataset.artifacts, 10)); });
  });
  submit.addEventListener("click", rate);
  document.getElementById("rate-skip").addEventListener("click", function () { if (!busy) next(); });
  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    var target = event.target;
    if (target && (target.tagName === "INPUT" || target.tagName === "TEXTAREA" || target.tagName === "SELECT")) return;
    var key = event.key.length === 1 ? event.key.toLowerCase() : event.key;
    if (/^[0-9]$/.test(key)) { event.preventDefault(); setRating(key === "0" ? 10 : parseInt(key, 10)); return; }
    if (key in artifactKeys) { event.preventDefault(); setArtifacts(artifactKeys[key]); return; }
    if (key === "Enter") { event.preventDefault(); rate(); return; }
    if (key === "s" && !busy) { event.preventDefault(); next(); }
  });
  next();
})();
