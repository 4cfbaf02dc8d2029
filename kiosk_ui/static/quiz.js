// The quiz screen: the visible timer, banners from the invigilator, saving answers the moment
// they are given, raise hand and explain. The server is the authority for time: the local
// countdown is re-anchored on every status answer.
(function () {
  "use strict";
  var root = document.getElementById("quiz-root");
  if (!root) { return; }
  var d = root.dataset;
  var timer = document.getElementById("timer");
  var remaining = parseFloat(timer.dataset.remaining);
  var anchor = performance.now();
  var paused = false;
  var leaving = false;
  var dismissedWarning = null;

  function post(url, body) {
    return fetch(url, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body || {}) });
  }
  function leave(url) {
    if (leaving) { return; }
    leaving = true;
    if (window.kioskLockdown) { window.kioskLockdown.leaving(); }
    location.href = url;
  }
  function left() {
    return paused ? remaining : Math.max(0, remaining - (performance.now() - anchor) / 1000);
  }
  function showTime() {
    var s = Math.ceil(left());
    var h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
    var text = (h ? h + ":" + String(m).padStart(2, "0") : m) + ":" + String(r).padStart(2, "0");
    if (timer.textContent !== text) { timer.textContent = text; }
    timer.parentElement.classList.toggle("low", s <= 60);
    if (s <= 0 && !paused) { setTimeout(poll, 300); }
  }
  function anchorTo(seconds) { remaining = seconds; anchor = performance.now(); showTime(); }

  function showWarnings(st) {
    var box = document.getElementById("warning");
    var latest = st.warnings.length ? st.warnings[st.warnings.length - 1] : null;
    if (!latest || latest.id === dismissedWarning) { box.hidden = true; return; }
    var label = st.warning_limit ? d.tWarning.replace("{limit}", st.warning_limit) : d.tWarningNolimit;
    document.getElementById("warning-count").textContent = label.replace("{n}", st.warning_count) + ":";
    document.getElementById("warning-text").textContent = latest.text;
    box.dataset.id = latest.id;
    box.hidden = false;
  }
  function showMessage(st) {
    var box = document.getElementById("message");
    var latest = st.messages.length ? st.messages[st.messages.length - 1] : null;
    box.hidden = !latest;
    if (latest) { document.getElementById("message-text").textContent = latest.text; }
  }
  function apply(st) {
    if (st.submitted || st.stage !== "quiz") { leave(d.resultUrl); return; }
    paused = st.paused;
    document.getElementById("paused").hidden = !paused;
    // While paused nothing behind the overlay can be reached, by touch or by keyboard.
    form.inert = paused;
    document.querySelector(".help").inert = paused;
    anchorTo(st.remaining_s);
    showWarnings(st);
    showMessage(st);
    document.getElementById("explain").disabled = !st.can_explain;
  }
  function poll() {
    if (leaving) { return; }
    fetch(d.statusUrl, { cache: "no-store" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (st) { if (st) { apply(st); } })
      .catch(function () {});
  }

  var form = document.getElementById("answer-form");
  var saveState = document.getElementById("save-state");
  function currentAnswer() {
    var inputs = form.querySelectorAll("[name=answer]");
    if (d.kind === "multiple") {
      return Array.prototype.filter.call(inputs, function (i) { return i.checked; }).map(function (i) { return i.value; });
    }
    if (d.kind === "single") {
      var chosen = form.querySelector("[name=answer]:checked");
      return chosen ? chosen.value : null;
    }
    return inputs[0].value;
  }
  function save(final) {
    saveState.textContent = "";
    post(d.answerUrl, { question_id: d.question, answer: currentAnswer(), final: final === true })
      .then(function (r) { return r.json().then(function (b) { return [r.ok, b]; }); })
      .then(function (res) {
        saveState.textContent = res[0] ? d.tSaved : d.tNotSaved;
        if (res[0]) { anchorTo(res[1].remaining_s); markAnswered(); }
      })
      .catch(function () { saveState.textContent = d.tNotSaved; });
  }
  // The question's button in the palette shows at once whether it has an answer.
  function markAnswered() {
    var button = document.querySelector(".palette [aria-current]");
    var answer = currentAnswer();
    var has = Array.isArray(answer) ? answer.length > 0 : !!(answer && String(answer).trim());
    if (button) { button.classList.toggle("answered", has); }
  }
  var typing = null;
  form.addEventListener("change", function () { save(false); });
  form.addEventListener("input", function (e) {
    if (e.target.type === "text" || e.target.inputMode === "decimal") {
      clearTimeout(typing);
      typing = setTimeout(function () { save(false); }, 800);
    }
  });
  form.addEventListener("keydown", function (e) {
    if (e.key === "Enter" && e.target.tagName === "INPUT") { e.preventDefault(); save(true); }
  });

  document.getElementById("warning-ok").addEventListener("click", function () {
    var box = document.getElementById("warning");
    dismissedWarning = box.dataset.id;
    box.hidden = true;
    post("/api/warnings/" + encodeURIComponent(dismissedWarning) + "/seen");
  });
  var helpState = document.getElementById("help-state");
  document.getElementById("raise-hand").addEventListener("click", function () {
    post("/api/raise-hand").then(function () { helpState.textContent = d.tHand; });
  });
  var dialog = document.getElementById("explain-dialog");
  document.getElementById("explain").addEventListener("click", function () { dialog.showModal(); });
  dialog.addEventListener("close", function () {
    var note = document.getElementById("explain-note");
    if (dialog.returnValue === "send" && note.value.trim()) {
      post("/api/explain", { note: note.value }).then(function (r) {
        if (r.ok) { helpState.textContent = d.tExplained; note.value = ""; }
      });
    }
  });

  setInterval(showTime, 250);
  setInterval(poll, 1000);
  poll();
})();
