// The generate form: size selects follow the chosen model's limits, and the
// price is fetched from /generate/price whenever a field that moves it changes.
(function () {
  "use strict";
  var form = document.getElementById("generate-form");
  var limitsNode = document.getElementById("model-limits");
  if (!form || !limitsNode) return;
  var limits = JSON.parse(limitsNode.textContent);
  var field = function (name) { return form.elements.namedItem(name); };
  var priceNode = document.getElementById("price");
  var detailNode = document.getElementById("price-detail");
  var balanceNode = document.getElementById("generate-balance");
  var afterNode = document.getElementById("balance-after");
  // The balance once this request is charged (it may go below zero: the explainer says what that means).
  function showAfter(kudos) {
    if (!balanceNode || !afterNode) return;
    if (kudos === null) { afterNode.textContent = "–"; return; }
    var after = parseInt(balanceNode.getAttribute("data-balance"), 10) - kudos;
    afterNode.textContent = String(after);
    afterNode.className = after < 0 ? "negative" : "";
  }
  var pending = null;
  var seq = 0;

  function fillSelect(select, values, wanted) {
    var current = parseInt(wanted, 10);
    select.innerHTML = "";
    values.forEach(function (value) {
      var option = document.createElement("option");
      option.value = String(value);
      option.textContent = String(value);
      select.appendChild(option);
    });
    select.value = values.indexOf(current) >= 0 ? String(current) : String(values[0]);
  }

  function applyModel(useDefaults) {
    var rules = limits[field("model").value];
    if (!rules) return;
    fillSelect(field("width"), rules.widths, useDefaults ? rules.default_width : field("width").value);
    fillSelect(field("height"), rules.heights, useDefaults ? rules.default_height : field("height").value);
    var steps = field("steps");
    steps.max = rules.max_steps;
    if (useDefaults) steps.value = rules.default_steps;
    var nField = document.getElementById("n-field");
    if (nField) nField.hidden = !!rules.images_per_request;
    document.querySelectorAll(".model-rule").forEach(function (node) {
      node.hidden = node.getAttribute("data-model") !== field("model").value;
    });
  }

  function updatePrice() {
    var params = new URLSearchParams({
      model: field("model").value,
      width: field("width").value,
      height: field("height").value,
      steps: field("steps").value,
      n: field("n") ? field("n").value : "1"
    });
    var mine = ++seq;
    fetch(form.getAttribute("data-price-url") + "?" + params.toString(), { headers: { Accept: "application/json" } })
      .then(function (response) { return response.json().then(function (body) { return [response.ok, body]; }); })
      .then(function (result) {
        if (mine !== seq) return; // an older answer arriving late must not overwrite a newer one
        var ok = result[0], body = result[1];
        if (ok) {
          priceNode.textContent = String(body.kudos);
          detailNode.textContent = "(" + body.images + " × " + body.per_image + ")";
          showAfter(body.kudos);
        } else {
          priceNode.textContent = "–";
          detailNode.textContent = body.message || "";
          showAfter(null);
        }
      })
      .catch(function () { if (mine === seq) { priceNode.textContent = "–"; } });
  }

  function schedulePrice() {
    clearTimeout(pending);
    pending = setTimeout(updatePrice, 120);
  }

  // The prompt's length as the API counts it ("prompt ### negative"), against its limit.
  var counter = document.getElementById("char-count");
  var maxChars = parseInt(field("prompt").getAttribute("data-max-chars"), 10);
  function countChars() {
    if (!counter || !maxChars) return;
    var negative = field("negative_prompt") ? field("negative_prompt").value.trim() : "";
    var used = field("prompt").value.length + (negative ? negative.length + 5 : 0);
    counter.textContent = used + " / " + maxChars + " characters" +
      (used > maxChars ? ": the prompt may be at most " + maxChars + " characters." : "");
    counter.className = "char-count " + (used > maxChars ? "negative" : "muted");
    var submit = form.querySelector("button[type=submit]");
    if (submit) submit.disabled = used > maxChars;
  }
  ["prompt", "negative_prompt"].forEach(function (name) {
    if (field(name)) field(name).addEventListener("input", countChars);
  });
  countChars();

  field("model").addEventListener("change", function () { applyModel(true); updatePrice(); });
  ["width", "height", "n"].forEach(function (name) {
    if (field(name)) field(name).addEventListener("change", updatePrice);
  });
  field("steps").addEventListener("input", schedulePrice);
  applyModel(false);
  updatePrice();
})();
