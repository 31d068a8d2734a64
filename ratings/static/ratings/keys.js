/* Keyboard shortcuts shared by the own-pair page and the arena.
 * 1 / ArrowLeft: left better; 2 / ArrowRight: right better; T tie; B both bad;
 * S skip; U undo; A|D then a digit: aesthetic of left|right (0 = 10);
 * Z|C then 0-5: artifacts of left|right; Escape cancels a half-typed score. */
(function () {
  var PREFIXES = {
    a: { field: "left_aesthetic", label: "aesthetic of the left image: type 1-9 or 0 for 10" },
    d: { field: "right_aesthetic", label: "aesthetic of the right image: type 1-9 or 0 for 10" },
    z: { field: "left_artifacts", label: "artifacts of the left image: type 0-5" },
    c: { field: "right_artifacts", label: "artifacts of the right image: type 0-5" },
  };
  function install(options) {
    var prefix = null;
    function say(text) { if (options.pending) options.pending.textContent = text || ""; }
    document.addEventListener("keydown", function (event) {
      if (event.ctrlKey || event.metaKey || event.altKey) return;
      var target = event.target;
      if (target && (target.tagName === "INPUT" || target.tagName === "TEXTAREA")) return;
      var key = event.key.length === 1 ? event.key.toLowerCase() : event.key;
      // A focused drop-down uses the arrows itself.
      if (target && target.tagName === "SELECT" && key.indexOf("Arrow") === 0) return;
      if (key === "Escape") { prefix = null; say(""); return; }
      if (prefix) {
        if (/^[0-9]$/.test(key)) {
          var value = parseInt(key, 10);
          var isAesthetic = prefix.field.indexOf("aesthetic") >= 0;
          if (isAesthetic && value === 0) value = 10;
          if (!isAesthetic && value > 5) { say("Artifacts go from 0 to 5."); return; }
          options.onScore(prefix.field, value);
          say(prefix.field.replace("_", " ") + " = " + value);
          prefix = null;
          event.preventDefault();
          return;
        }
        prefix = null;
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
