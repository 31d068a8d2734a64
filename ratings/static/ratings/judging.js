/* What the judge page, the request page's inline verdict and the arena share besides the keys:
 *
 * pick: a tap (or click, or Enter on the focused image) picks that image: its figure shows
 *   "picked" and the send button, in the sticky verdict bar, says what it will send. Nothing is
 *   sent by the tap itself: a stray tap while scrolling must not cast a vote.
 * lookFirst: the verdict controls wait, with a countdown on them, until the pair has been on
 *   screen as long as the server asks (RATINGS_MIN_SECONDS_TO_VOTE): the rule is shown before
 *   it is broken, not explained after a refused vote. */
(function () {
  "use strict";
  var WORDS = { left: "◀ Left is better", right: "Right is better ▶" };

  function pick(options) {
    var sides = { left: options.left, right: options.right };
    var send = options.send;
    var picked = null;
    function render() {
      Object.keys(sides).forEach(function (side) {
        var figure = sides[side];
        if (!figure) return;
        figure.classList.toggle("picked", picked === side);
        var img = figure.querySelector("img");
        if (img) img.setAttribute("aria-pressed", picked === side ? "true" : "false");
      });
      if (send) {
        send.hidden = picked === null;
        if (picked) send.textContent = "Send: " + WORDS[picked];
      }
    }
    function choose(side) { picked = side; render(); }
    Object.keys(sides).forEach(function (side) {
      var figure = sides[side];
      var img = figure && figure.querySelector("img");
      if (!img) return;
      img.setAttribute("role", "button");
      img.setAttribute("tabindex", "0");
      img.classList.add("pickable");
      img.addEventListener("click", function () { choose(side); });
      img.addEventListener("keydown", function (event) {
        if (event.key === "Enter" || event.key === " ") { event.preventDefault(); event.stopPropagation(); choose(side); }
      });
    });
    if (send) {
      send.addEventListener("click", function (event) {
        event.preventDefault();
        if (picked) options.onSend(picked);
      });
    }
    render();
    return { reset: function () { choose(null); }, picked: function () { return picked; } };
  }

  function lookFirst(options) {
    var until = 0;
    var timer = null;
    function controls() { return Array.prototype.slice.call(options.root.querySelectorAll(options.selector)); }
    function left() { return Math.max(0, until - Date.now()); }
    function tick() {
      var ms = left();
      controls().forEach(function (control) { control.disabled = ms > 0 || control.dataset.off === "1"; });
      if (options.note) {
        options.note.hidden = ms === 0;
        options.note.textContent = ms ? "Look at both images first: " + (ms / 1000).toFixed(1) + " s" : "";
      }
      if (ms === 0 && timer) { clearInterval(timer); timer = null; }
    }
    function start(ms) {
      until = Date.now() + Math.max(0, ms);
      if (!timer && ms > 0) timer = setInterval(tick, 100);
      tick();
    }
    return {
      start: start,
      ready: function () { return left() === 0; },
      remaining: left,
    };
  }

  window.HordeJudging = { pick: pick, lookFirst: lookFirst };
})();
