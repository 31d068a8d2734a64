/* The arena: one pair on screen, the next one already fetched and its images loaded,
 * so a vote shows the next pair at once. Talks to /api/v2/ratings/arena/* with the
 * session cookie and the CSRF token. */
(function () {
  var root = document.getElementById("arena");
  var undoSeconds = parseInt(root.dataset.undoSeconds, 10);
  var queue = [];          // queue[0] is on screen, queue[1] is preloaded
  var fetching = null;
  var busy = false;
  var lastVote = null;     // {assignmentId, at}
  var SCORE_FIELDS = ["left_aesthetic", "right_aesthetic", "left_artifacts", "right_artifacts"];
  var lookMs = parseInt(root.dataset.lookMs || "0", 10);
  // The server counts the look-first time from when this pair could first appear (its issue, or
  // the last answer); counting from when it is really on screen never undercuts that.
  var look = HordeJudging.lookFirst({
    root: root,
    selector: "button[data-choice], #send-pick",
    note: document.getElementById("look-first"),
  });
  var picker = HordeJudging.pick({
    left: document.getElementById("left-figure"),
    right: document.getElementById("right-figure"),
    send: document.getElementById("send-pick"),
    onSend: function (choice) { vote(choice); },
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
  function status(text) { document.getElementById("arena-status").textContent = text || ""; }
  function showToday(today) {
    if (!today) return;
    document.getElementById("today-votes").textContent = today.votes;
    document.getElementById("today-kudos").textContent = today.kudos;
    document.getElementById("today-cap").textContent = today.cap;
  }
  function preload(assignment) {
    [assignment.left.url, assignment.right.url].forEach(function (url) { var img = new Image(); img.src = url; });
  }
  function refill() {
    if (fetching || queue.length >= 2) return fetching || Promise.resolve();
    fetching = api("GET", "/api/v2/ratings/arena/next").then(function (data) {
      fetching = null;
      // today's counts come from votes and undos only: a "next" answered late would show stale ones.
      if (data.assignment) {
        preload(data.assignment);
        queue.push(data.assignment);
        if (queue.length === 1) show();
        return refill();
      }
      if (queue.length === 0) show();
    }, function (error) { fetching = null; status(error.message); });
    return fetching;
  }
  function resetScores() {
    SCORE_FIELDS.forEach(function (name) { root.querySelector('select[name="' + name + '"]').value = ""; });
  }
  function show() {
    var current = queue[0];
    var pair = document.getElementById("arena-pair");
    resetScores();
    picker.reset();
    document.getElementById("loading-pair").hidden = true;
    // Nothing to judge: no frames, no verdict buttons, only the empty state (and the undo row).
    pair.hidden = !current;
    document.getElementById("arena-controls").hidden = !current;
    document.getElementById("arena-hint").hidden = !current;
    document.getElementById("arena-empty").hidden = !!current;
    if (!current) {
      root.dataset.assignmentId = "";
      document.getElementById("arena-prompt").textContent = "";
      return;
    }
    look.start(lookMs);
    document.getElementById("left-image").src = current.left.url;
    document.getElementById("right-image").src = current.right.url;
    document.getElementById("left-report").dataset.reportImage = current.left.id;
    document.getElementById("right-report").dataset.reportImage = current.right.id;
    document.getElementById("arena-prompt").textContent = "“" + current.prompt + "” · " + current.model;
    root.dataset.assignmentId = current.id;
  }
  var CHOICE_WORDS = { left: "left is better", right: "right is better", tie: "tie", both_bad: "both bad" };
  function pipelineName(side) {
    if (!side || !side.pipeline) return "an unnamed pipeline";
    return side.pipeline + (side.version ? " v" + side.version : "");
  }
  // After a vote the arena reveals which pipeline made which image of that pair (not
  // before: judging is blind). The next pair is already on screen, so this names the last one.
  function showReveal(pair, choice, reveal) {
    var panel = document.getElementById("arena-reveal");
    if (!reveal || reveal.left.image_id !== pair.left.id || reveal.right.image_id !== pair.right.id) {
      panel.hidden = true;
      return;
    }
    document.getElementById("reveal-left-image").src = pair.left.url;
    document.getElementById("reveal-right-image").src = pair.right.url;
    document.getElementById("reveal-left").textContent = pipelineName(reveal.left);
    document.getElementById("reveal-right").textContent = pipelineName(reveal.right);
    document.getElementById("reveal-choice").textContent = CHOICE_WORDS[choice] || choice;
    panel.hidden = false;
  }
  function advance() {
    queue.shift();
    show();
    return refill();
  }
  function scores() {
    var body = {};
    SCORE_FIELDS.forEach(function (name) {
      var value = root.querySelector('select[name="' + name + '"]').value;
      if (value !== "") body[name] = parseInt(value, 10);
    });
    return body;
  }
  function vote(choice) {
    var current = queue[0];
    if (!current || busy) return;
    if (!look.ready()) { status("Look at both images a moment longer."); return; }
    busy = true;
    var body = scores();
    body.choice = choice;
    api("POST", "/api/v2/ratings/arena/" + current.id, body).then(function (data) {
      busy = false;
      lastVote = { assignmentId: current.id, at: Date.now() };
      document.getElementById("undo-button").disabled = false;
      document.getElementById("last-reward").textContent = "+" + data.reward;
      showToday(data.today);
      status("Vote saved (+" + data.reward + " kudos). U undoes it for " + undoSeconds + " s.");
      showReveal(current, choice, data.reveal);
      advance();
    }, function (error) { busy = false; status(error.message); });
  }
  function skip() {
    var current = queue[0];
    if (!current || busy) return;
    busy = true;
    api("POST", "/api/v2/ratings/arena/" + current.id + "/skip").then(function () {
      busy = false;
      status("Skipped.");
      advance();
    }, function (error) { busy = false; status(error.message); });
  }
  function undo() {
    if (!lastVote || busy) return;
    if (Date.now() - lastVote.at > undoSeconds * 1000) { status("Too late to undo that vote."); return; }
    busy = true;
    api("POST", "/api/v2/ratings/arena/" + lastVote.assignmentId + "/undo").then(function (data) {
      busy = false;
      lastVote = null;
      document.getElementById("undo-button").disabled = true;
      document.getElementById("last-reward").textContent = "undone";
      document.getElementById("arena-reveal").hidden = true;
      showToday(data.today);
      // The vote showed which pipeline made which image: the pair cannot be judged blind
      // again, so it is withdrawn (other raters judge it) and the next pair stays on screen.
      status("Vote withdrawn and its kudos taken back. Its pipelines were shown, so this pair leaves your queue.");
    }, function (error) { busy = false; status(error.message); });
  }
  root.querySelectorAll("button[data-choice]").forEach(function (button) {
    button.addEventListener("click", function () { vote(button.dataset.choice); });
  });
  document.getElementById("skip-button").addEventListener("click", skip);
  document.getElementById("undo-button").addEventListener("click", undo);
  HordeRatingKeys.install({
    pending: document.getElementById("key-pending"),
    onChoice: vote,
    onSkip: skip,
    onUndo: undo,
    onScore: function (field, value) { root.querySelector('select[name="' + field + '"]').value = String(value); },
  });
  refill();
})();
