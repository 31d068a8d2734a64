/* Keyboard shortcuts shared by the own-pair page and the arena.
 * 1 / ArrowLeft: left better; 2 / ArrowRight: right better; T tie; B both bad;
 * S skip; U undo; A|D then a digit: aesthetic of left|right (0 = 10);
 * Z|C then 0-5: artifacts of left|right; Escape cancels a half-typed score.
 * A digit typed while a score menu has focus sets that score (0 = 10 for an
 * aesthetic) and is never a verdict: a slip of the finger must not cast a vote.
 * Escape there leaves the menu, so 1 / 2 are verdicts again. */
(function () {
  var PREFIXES = {
    a: { field: "left_aesthetic", label: "aesthetic of the left image: type 1-9 or 0 for 10" },
    d: { field: "right_aesthetic", label: "aesthetic of the right image: type 1-9 or 0 for 10" },
    z: { field: "left_artifacts", label: "artifacts of the left image: type 0-5" },
    c: { field: "right_artifacts", label: "artifacts of the right image: type 0-5" },
  };
  var SCORE_FIELDS = { left_aesthetic: true, right_aesthetic: true, left_artifacts: true, right_artifacts: true };
  function scoreControl(target) {
    return target && target.tagName === "SELECT" && SCORE_FIELDS[target.name] ? target : null;
  }
  function install(options) {
    var prefix = null;
    function say(text) { if (options.pending) options.pending.textContent = text || ""; }
    // A digit for `field`: sets it (true), or says why not (false: artifacts go to 5).
    function score(field, key) {
      var value = parseInt(key, 10);
      var isAesthetic = field.indexOf("aesthetic") >= 0;
      if (isAesthetic && value === 0) value = 10;
      if (!isAesthetic && value > 5) { say("Artifacts go from 0 to 5."); return false; }
      options.onScore(field, value);
      say(field.replace("_", " ") + " = " + value);
      return true;
    }
    document.addEventListener("keydown", function (event) {
      if (event.ctrlKey || event.metaKey || event.altKey) return;
      var target = event.target;
      if (target && (target.tagName === "INPUT" || target.tagName === "TEXTAREA")) return;
      var key = event.key.length === 1 ? event.key.toLowerCase() : event.key;
      // A focused drop-down uses the arrows itself.
      if (target && target.tagName === "SELECT" && key.indexOf("Arrow") === 0) return;
      var control = scoreControl(target);
      if (key === "Escape") {
        prefix = null;
        say("");
        if (control) control.blur();
        return;
      }
      var digit = /^[0-9]$/.test(key);
      if (prefix) {
        if (digit) {
          event.preventDefault();
          if (score(prefix.field, key)) prefix = null;
          return;
        }
        prefix = null;
      }
      if (control && digit) {
        // The menu's own type-ahead is replaced by the same digit rule as the A/D/Z/C prefixes.
        event.preventDefault();
        score(control.name, key);
        return;
      }
      if (PREFIXES[key]) { prefix = PREFIXES[key]; say(prefix.label); event.preventDefault(); return; }
      var choice = { "1": "left", ArrowLeft: "left", "2": "right", ArrowRight: "right", t: "tie", b: "both_bad" }[key];
      if (choice) { event.preventDefault(); options.onChoice(choice); return; }
      if (key === "s" && options.onSkip) { event.preventDefault(); options.onSkip(); return; }
      if (key === "u" && options.onUndo) { event.preventDefault(); options.onUndo(); return; }
    });
  }
  window.HordeRatingKeys = { install: install };
})();
