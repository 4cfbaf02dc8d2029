// Live console of one hall: draws the floor plan from the page's snapshot, then applies the
// hall's live feed (Server-Sent Events). EventSource resends the last id it got as
// Last-Event-ID when it reconnects, and the server replays what was missed.
// No inline script or style (CSP): positions are set through element.style.
// Words come from the page's console-words data block, in the page's language (t(), below).
(function () {
  "use strict";

  var root = document.getElementById("console");
  var snapshot = JSON.parse(document.getElementById("console-data").textContent);
  var wordsBlock = document.getElementById("console-words");
  var WORDS = wordsBlock ? JSON.parse(wordsBlock.textContent) : {};
  var plurals = new Intl.PluralRules(document.documentElement.lang || "en");
  var hallId = root.dataset.hall;
  var mayAct = root.dataset.mayAct === "1";
  var me = root.dataset.user;
  var invigilators = snapshot.invigilators || [];
  var csrf = document.querySelector('meta[name="csrf-token"]').content;
  var SEVERITY_RANK = { critical: 0, high: 1, medium: 2, low: 3, info: 4 };
  var MAX_ALERTS = 100;

  var state = { seats: {}, byDevice: {}, alerts: {}, commands: {}, exams: {}, offset: 0 };
  var tiles = {};
  var selected = null;

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text !== undefined && text !== null) { node.textContent = text; }
    return node;
  }

  function now() { return Date.now() + state.offset; }

  // ---- words -------------------------------------------------------------------------------
  // A key is the English text: a word missing from the page's table shows in English.

  function fill(text, values) {
    return text.replace(/\{([a-z_]+)\}/g, function (whole, name) {
      return values && name in values ? String(values[name]) : whole;
    });
  }

  function t(key, values) {
    var texts = WORDS.texts || {};
    return fill(texts[key] || key, values);
  }

  // A count: the form for count's plural category, e.g. tn("{count} warning(s)", 3).
  function tn(key, count, values) {
    var forms = (WORDS.counts || {})[key] || {};
    var text = forms[plurals.select(count)] || forms.other;
    if (!text) { text = key.replace("(s)", count === 1 ? "" : "s"); }
    return fill(text, Object.assign({ count: count }, values || {}));
  }

  // The word for a code (a violation type, a state...), else the code with spaces.
  function word(table, code) {
    var known = (WORDS[table] || {})[code];
    return known || String(code).replace(/_/g, " ");
  }

  function capital(text) { return text.charAt(0).toUpperCase() + text.slice(1); }

  function typeLabel(type) { return capital(word("violation_types", type)); }

  function clockTime(iso) {
    return iso ? new Date(iso).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" }) : "";
  }

  function mmss(seconds) {
    var s = Math.max(0, Math.round(seconds));
    var m = Math.floor(s / 60);
    return m + ":" + String(s % 60).padStart(2, "0");
  }

  // ---- state -------------------------------------------------------------------------------

  function load(data) {
    state.offset = Date.parse(data.server_time) - Date.now();
    state.exams = data.exams;
    state.staleAfter = data.stale_after_s * 1000;
    state.offlineAfter = data.offline_after_s * 1000;
    state.seats = {};
    state.byDevice = {};
    state.alerts = {};
    data.seats.forEach(function (seat) {
      seat.openAlerts = {};
      seat.open_alerts.forEach(function (a) { seat.openAlerts[a.violation_id] = a; });
      seat.scored = {};
      seat.violations.forEach(function (v) { seat.scored[v.violation_id] = v; });
      state.seats[seat.seat_id] = seat;
      if (seat.device_id) { state.byDevice[seat.device_id] = seat; }
    });
    data.alerts.forEach(function (a) { state.alerts[a.violation_id] = a; });
  }

  function connection(seat) {
    var device = seat.device;
    if (!device.last_seen_at || device.last_status === "offline") { return "offline"; }
    var age = now() - Date.parse(device.last_seen_at);
    if (age > state.offlineAfter) { return "offline"; }
    return age > state.staleAfter ? "stale" : "online";
  }

  // The trust score so far: central/scoring/trust.py's formula with the exam's policy.
  function trust(seat) {
    if (!seat.session || !state.exams[seat.session.exam_id]) { return null; }
    var policy = state.exams[seat.session.exam_id].policy;
    var lost = 0;
    Object.keys(seat.scored).forEach(function (id) {
      var v = seat.scored[id];
      var weight = policy.weights[v.type];
      if (weight === undefined) { weight = policy.unknown_weight; }
      var counted = Math.min(Math.max(v.duration_s, 0), policy.duration_cap_s);
      var factor = v.status === "confirmed" ? 1 : v.status === "pending" ? policy.pending_factor : 0;
      lost += weight * (1 + counted / policy.duration_unit_s) * factor;
    });
    return Math.round(Math.min(Math.max(100 - lost, 0), 100) * 10) / 10;
  }

  function applyEvent(msg) {
    var seat = state.seats[msg.seat_id];
    var e = msg.data;
    var alert = state.alerts[e.violation_id] || { violation_id: e.violation_id, acked_by: null };
    ["session_id", "type", "severity", "state", "started_at", "ended_at", "duration_s"].forEach(
      function (key) { alert[key] = e[key]; });
    alert.seat_id = msg.seat_id;
    state.alerts[e.violation_id] = alert;
    if (!seat) { return; }
    var scored = seat.scored[e.violation_id] || { violation_id: e.violation_id, status: "pending" };
    scored.type = e.type;
    scored.duration_s = e.duration_s;
    seat.scored[e.violation_id] = scored;
    seat.trust = trust(seat);
    if (!alert.acked_by) { seat.openAlerts[e.violation_id] = alert; }
    renderTile(seat, true);
    if (selected === seat.seat_id) { loadDetail(seat.seat_id); }
  }

  var RESPONSE_FIELDS = ["acked_by", "dispatched_to", "dispatched_at", "at_seat_by", "at_seat_at"];

  function applyAck(data) {
    var alert = state.alerts[data.violation_id];
    if (alert) {
      RESPONSE_FIELDS.forEach(function (key) { if (key in data) { alert[key] = data[key]; } });
    }
    Object.keys(state.seats).forEach(function (id) {
      var seat = state.seats[id];
      if (seat.openAlerts[data.violation_id]) {
        delete seat.openAlerts[data.violation_id];
        renderTile(seat, false);
      }
    });
  }

  function apply(msg) {
    if (msg.kind === "event") { applyEvent(msg); }
    else if (msg.kind === "device") {
      var seat = state.seats[msg.seat_id];
      if (seat) { seat.device = msg.data; renderTile(seat, false); }
    } else if (msg.kind === "command") {
      state.commands[msg.data.command_id] = msg.data;
      renderCommands();
    } else if (msg.kind === "ack") { applyAck(msg.data); }
    renderAlerts();
  }

  // ---- floor plan ----------------------------------------------------------------------------

  function buildFloor(data) {
    var floor = document.getElementById("floor");
    floor.textContent = "";
    floor.style.gridTemplateColumns = "repeat(" + data.columns + ", minmax(7.5rem, 1fr))";
    floor.style.gridTemplateRows = "repeat(" + data.rows + ", minmax(5rem, auto))";
    data.gaps.forEach(function (cell) {
      var gap = el("div", "gap");
      gap.style.gridRow = String(cell[0]);
      gap.style.gridColumn = String(cell[1]);
      floor.appendChild(gap);
    });
    tiles = {};
    data.seats.forEach(function (seat) {
      var tile = el("div", "tile");
      tile.dataset.seat = seat.seat_id;
      tile.setAttribute("role", "button");
      tile.setAttribute("tabindex", "0");
      tile.style.gridRow = String(seat.row);
      tile.style.gridColumn = String(seat.column);
      ["head", "cand", "progress", "alerts", "stage-off"].forEach(function (part) {
        tile.appendChild(el("div", "tile-" + part));
      });
      tile.addEventListener("click", function () { select(seat.seat_id); });
      tile.addEventListener("keydown", function (event) {
        if (event.key === "Enter" || event.key === " ") { event.preventDefault(); select(seat.seat_id); }
      });
      floor.appendChild(tile);
      tiles[seat.seat_id] = tile;
      renderTile(state.seats[seat.seat_id], false);
    });
  }

  function progressText(seat) {
    var exam = seat.device.heartbeat && seat.device.heartbeat.exam;
    if (!exam) { return seat.session ? t("no progress yet") : ""; }
    var text = t("{state} · {answered}/{total}",
      { state: word("exam_states", exam.state), answered: exam.answered, total: exam.total });
    if (exam.remaining_s !== null && exam.remaining_s !== undefined) {
      var left = exam.remaining_s;
      if (exam.state === "running" && seat.device.last_seen_at) {
        left -= (now() - Date.parse(seat.device.last_seen_at)) / 1000;
      }
      text += " · " + t("{time} left", { time: mmss(left) });
    }
    if (exam.warnings) { text += " · " + tn("{count} warning(s)", exam.warnings); }
    return text;
  }

  function renderTile(seat, pulse) {
    var tile = tiles[seat.seat_id];
    if (!tile) { return; }
    var conn = connection(seat);
    tile.className = "tile conn-" + conn + (seat.seat_id === selected ? " selected" : "");
    var head = tile.querySelector(".tile-head");
    head.textContent = "";
    var connWord = word("connections", conn);
    var dot = el("span", "dot conn-" + conn);
    dot.title = connWord;
    head.appendChild(dot);
    head.appendChild(el("strong", "label", seat.label));
    if (conn !== "online") { head.appendChild(el("span", "conn-text", connWord)); }
    if (seat.trust !== null && seat.trust !== undefined) {
      var score = el("span", "trust", String(seat.trust));
      score.title = t("trust score so far");
      head.appendChild(score);
    }
    tile.querySelector(".tile-cand").textContent = seat.candidate ? seat.candidate.name : t("no candidate");
    tile.querySelector(".tile-progress").textContent = progressText(seat);
    var box = tile.querySelector(".tile-alerts");
    box.textContent = "";
    var open = Object.keys(seat.openAlerts).map(function (id) { return seat.openAlerts[id]; });
    open.sort(function (a, b) { return SEVERITY_RANK[a.severity] - SEVERITY_RANK[b.severity]; });
    var chips = [];  // one chip per type, most severe first, with a count
    var byType = {};
    open.forEach(function (a) {
      if (!byType[a.type]) { byType[a.type] = { alert: a, count: 0 }; chips.push(byType[a.type]); }
      byType[a.type].count += 1;
    });
    chips.slice(0, 3).forEach(function (chip) {
      var a = chip.alert;
      box.appendChild(el("span", "alert-chip sev-" + a.severity + (a.type === "raised_hand" ? " hand" : ""),
        typeLabel(a.type) + (chip.count > 1 ? " ×" + chip.count : "")));
    });
    if (chips.length > 3) { box.appendChild(el("span", "more", "+" + (chips.length - 3))); }
    var stages = seat.device.heartbeat && seat.device.heartbeat.disabled_stages;
    var off = stages ? Object.keys(stages) : [];
    var note = tile.querySelector(".tile-stage-off");
    note.textContent = off.length ? t("off: {stages}", { stages: off.join(", ") }) : "";
    note.title = off.map(function (name) { return name + ": " + stages[name]; }).join("\n");
    tile.setAttribute("aria-label", t("Seat {seat}, {connection}, {alerts}", {
      seat: seat.label, connection: connWord, alerts: tn("{count} open alert(s)", open.length)
    }));
    if (pulse && open.length) {
      tile.classList.remove("pulse");
      void tile.offsetWidth; // restart the animation
      tile.classList.add("pulse");
    }
  }

  function renderAlerts() {
    var list = document.getElementById("alert-feed");
    var all = Object.keys(state.alerts).map(function (id) { return state.alerts[id]; });
    all.sort(function (a, b) { return Date.parse(b.started_at) - Date.parse(a.started_at); });
    list.textContent = "";
    all.slice(0, MAX_ALERTS).forEach(function (a) {
      var seat = state.seats[a.seat_id];
      var done = a.at_seat_by || (a.acked_by && !a.dispatched_to);
      var item = el("li", "alert sev-" + a.severity + (done ? " acked" : "") +
        (a.dispatched_to && a.dispatched_to === me && !a.at_seat_by ? " mine" : ""));
      item.dataset.violation = a.violation_id;
      item.appendChild(el("span", "when", clockTime(a.started_at)));
      item.appendChild(el("strong", "where", seat ? seat.label : "?"));
      item.appendChild(el("span", "what", t("{what} ({severity}, {state})", {
        what: typeLabel(a.type), severity: word("severities", a.severity), state: word("event_states", a.state)
      })));
      if (a.at_seat_by) {
        item.appendChild(el("span", "who",
          t("{who} at the seat {time}", { who: a.at_seat_by, time: clockTime(a.at_seat_at) })));
      } else if (a.dispatched_to) {
        item.appendChild(el("span", "who", a.dispatched_to === me ? t("you are on the way")
          : t("{who} is on the way", { who: a.dispatched_to })));
      } else if (a.acked_by) {
        item.appendChild(el("span", "who muted", t("seen by {who}", { who: a.acked_by })));
      }
      if (mayAct && !a.at_seat_by) { item.appendChild(responseControls(a)); }
      list.appendChild(item);
    });
  }

  function responseControls(a) {
    var box = el("span", "respond");
    function button(label, className, action) {
      var b = el("button", className, label);
      b.type = "button";
      b.addEventListener("click", action);
      box.appendChild(b);
    }
    if (!a.acked_by) { button(t("Acknowledge"), "ack", function () { acknowledge(a.violation_id); }); }
    if (invigilators.length) {
      var pick = el("select", "dispatch-to");
      pick.setAttribute("aria-label", t("Invigilator to send to the seat"));
      invigilators.forEach(function (person) {
        var option = el("option", null, person.username);
        option.value = String(person.user_id);
        option.selected = person.username === (a.dispatched_to || me);
        pick.appendChild(option);
      });
      box.appendChild(pick);
      button(a.dispatched_to ? t("Send instead") : t("Send"), "dispatch", function () {
        respond(a.violation_id, "dispatch", { user_id: Number(pick.value) });
      });
    }
    button(t("At seat"), "at-seat", function () { respond(a.violation_id, "at-seat"); });
    return box;
  }

  // ---- seat detail and actions -------------------------------------------------------------

  function select(seatId) {
    var previous = selected;
    selected = seatId;
    if (previous && state.seats[previous]) { renderTile(state.seats[previous], false); }
    renderTile(state.seats[seatId], false);
    var seat = state.seats[seatId];
    var panel = document.getElementById("seat-detail");
    panel.hidden = false;
    document.getElementById("detail-title").textContent = t("Seat {seat}", { seat: seat.label });
    document.getElementById("detail-who").textContent = seat.candidate
      ? seat.candidate.name + " (" + seat.candidate.number + ")" + (seat.session ? " · " + seat.session.session_id : "")
      : t("no candidate");
    loadDetail(seatId);
  }

  function loadDetail(seatId) {
    fetch("/api/v1/seats/" + encodeURIComponent(seatId) + "/detail", { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : Promise.reject(r.status); })
      .then(function (detail) {
        if (selected !== seatId) { return; }
        detail.commands.forEach(function (c) {
          var known = state.commands[c.command_id];
          if (!known || known.updated_at <= c.updated_at) { state.commands[c.command_id] = c; }
        });
        renderDetail(detail);
        renderCommands();
      });
  }

  function renderDetail(detail) {
    var shot = document.getElementById("detail-snapshot");
    shot.textContent = detail.latest_snapshot ? "" : t("none");
    if (detail.latest_snapshot) {
      var img = el("img");
      img.src = detail.latest_snapshot.url;
      img.alt = t("Latest snapshot of seat {seat}", { seat: detail.label });
      shot.appendChild(img);
    }
    var clips = document.getElementById("detail-clips");
    clips.textContent = detail.clips.length ? "" : t("none");
    detail.clips.slice(0, 4).forEach(function (clip) {
      var video = el("video");
      video.controls = true;
      video.preload = "none";
      video.src = clip.url;
      video.setAttribute("aria-label", t("{type} clip", { type: typeLabel(clip.type) }));
      clips.appendChild(video);
    });
    var events = document.getElementById("detail-events");
    events.textContent = "";
    detail.events.forEach(function (e) {
      events.appendChild(el("li", "sev-" + e.severity,
        clockTime(e.started_at) + " " + typeLabel(e.type) + " · " + word("event_states", e.state) + " · " +
        word("severities", e.severity)));
    });
  }

  function renderCommands() {
    var list = document.getElementById("command-list");
    if (!selected) { return; }
    var mine = Object.keys(state.commands).map(function (id) { return state.commands[id]; })
      .filter(function (c) { return c.seat_id === selected; });
    mine.sort(function (a, b) { return Date.parse(b.issued_at) - Date.parse(a.issued_at); });
    list.textContent = "";
    mine.slice(0, 10).forEach(function (c) {
      var item = el("li", "command state-" + c.state);
      item.dataset.command = c.command_id;
      var what = c.type === "warn" ? t("Warning “{text}”", { text: c.text })
        : c.type === "message" ? t("Message “{text}”", { text: c.text })
        : c.type === "adjust_time"
          ? t("Time {minutes} min", { minutes: (c.seconds > 0 ? "+" : "") + Math.round(c.seconds / 60) })
        : word("command_types", c.type);
      item.appendChild(el("span", "what", what));
      // The detail is the kiosk's own text (English).
      item.appendChild(el("span", "state", word("command_states", c.state) + (c.detail ? ": " + c.detail : "")));
      item.appendChild(el("span", "when muted",
        t("{time} by {who}", { time: clockTime(c.issued_at), who: c.issued_by })));
      list.appendChild(item);
    });
  }

  function post(url, body) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf },
      body: JSON.stringify(body || {})
    }).then(function (r) {
      return r.json().then(function (json) { return r.ok ? json : Promise.reject(json); });
    });
  }

  function showError(error) {
    var status = document.getElementById("live-state");
    status.textContent = (error && error.message) || t("the action failed");
    status.className = "live-state error";
  }

  function sendCommand(type, extra) {
    var body = Object.assign({ type: type }, extra || {});
    post("/api/v1/seats/" + encodeURIComponent(selected) + "/commands", body).then(function (c) {
      var known = state.commands[c.command_id];
      if (!known) { state.commands[c.command_id] = c; } // the feed may have told us first
      renderCommands();
    }, showError);
  }

  function acknowledge(violationId) {
    post("/api/v1/alerts/" + encodeURIComponent(violationId) + "/ack").then(function (ack) {
      applyAck(ack);
      renderAlerts();
    }, showError);
  }

  function respond(violationId, action, body) {
    post("/api/v1/alerts/" + encodeURIComponent(violationId) + "/" + action, body).then(function (data) {
      applyAck(data);
      renderAlerts();
    }, showError);
  }

  function wireActions() {
    document.getElementById("detail-close").addEventListener("click", function () {
      var previous = selected;
      selected = null;
      document.getElementById("seat-detail").hidden = true;
      if (previous) { renderTile(state.seats[previous], false); }
    });
    if (!mayAct) { return; }
    document.getElementById("warn-form").addEventListener("submit", function (event) {
      event.preventDefault();
      sendCommand("warn", { text: document.getElementById("warn-text").value });
    });
    document.getElementById("time-form").addEventListener("submit", function (event) {
      event.preventDefault();
      sendCommand("adjust_time", { minutes: Number(document.getElementById("time-minutes").value) });
    });
    document.querySelectorAll("button[data-command]").forEach(function (button) {
      button.addEventListener("click", function () {
        var type = button.dataset.command;
        if (type === "end_exam" && !window.confirm(t("End the exam at this seat?"))) { return; }
        sendCommand(type);
      });
    });
  }

  // ---- live feed ---------------------------------------------------------------------------

  function connect(cursor) {
    var status = document.getElementById("live-state");
    var source = new EventSource("/api/v1/halls/" + encodeURIComponent(hallId) + "/live?after=" + cursor);
    source.onopen = function () { status.textContent = t("live"); status.className = "live-state ok"; };
    source.onerror = function () { status.textContent = t("reconnecting…"); status.className = "live-state warn"; };
    source.onmessage = function (event) { apply(JSON.parse(event.data)); };
    source.addEventListener("reset", function () {
      // What we missed is no longer kept: take a fresh snapshot, the stream goes on from here.
      fetch("/api/v1/halls/" + encodeURIComponent(hallId) + "/console", { credentials: "same-origin" })
        .then(function (r) { return r.json(); })
        .then(function (data) { load(data); buildFloor(data); renderAlerts(); });
    });
  }

  load(snapshot);
  buildFloor(snapshot);
  renderAlerts();
  wireActions();
  connect(snapshot.cursor);
  window.setInterval(function () {  // connection and time left change with the clock alone
    Object.keys(state.seats).forEach(function (id) { renderTile(state.seats[id], false); });
  }, 1000);
})();
