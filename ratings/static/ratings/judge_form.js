/* The own-pair verdict form, wherever it is shown (the judge page, or inline under the pair on
 * the request page): the keys, tap-to-pick and the look-first countdown, then one submit.
 * options.left / options.right: the figures holding the pair's images (default: the form's own). */
(function () {
  "use strict";
  function install(form, options) {
    if (!form || form.dataset.installed) return;
    form.dataset.installed = "1";
    options = options || {};
    var pending = form.querySelector("#key-pending");
    var sent = false;
    var look = HordeJudging.lookFirst({
      root: form,
      selector: 'button[name="choice"], #send-pick',
      note: form.querySelector("#look-first"),
    });
    look.start(parseInt(form.dataset.waitMs || "0", 10));
    function send(choice) {
      if (sent) return;
      if (!look.ready()) {
        if (pending) pending.textContent = "Look at both images a moment longer.";
        return;
      }
      sent = true;
      form.requestSubmit(form.querySelector('button[name="choice"][value="' + choice + '"]'));
    }
    HordeJudging.pick({
      left: options.left || form.querySelector(".pick-left"),
      right: options.right || form.querySelector(".pick-right"),
      send: form.querySelector("#send-pick"),
      onSend: send,
    });
    HordeRatingKeys.install({
      pending: pending,
      onChoice: send,
      onScore: function (field, value) {
        var select = form.querySelector('select[name="' + field + '"]');
        if (select) { select.value = String(value); }
      },
    });
  }
  window.HordeJudgeForm = { install: install };
})();
