/* The header's menu on narrow screens: the links fold behind one button. Without this
 * script the menu stays open (the button stays hidden), so every link is still there. */
(function () {
  "use strict";
  var bar = document.getElementById("topbar");
  var button = document.getElementById("menu-toggle");
  if (!bar || !button) return;
  bar.classList.add("collapsible");
  button.hidden = false;
  function set(open) {
    bar.classList.toggle("menu-open", open);
    button.setAttribute("aria-expanded", open ? "true" : "false");
  }
  button.addEventListener("click", function () { set(!bar.classList.contains("menu-open")); });
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && bar.classList.contains("menu-open")) { set(false); button.focus(); }
  });
})();
