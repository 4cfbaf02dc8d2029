// Lockdown signals: what the candidate does outside the exam becomes an event for the agent.
// The kiosk app forwards each one to the agent's /v1/signals. Chromium runs in kiosk mode, so
// most of these cannot succeed; they are still worth reporting.
(function () {
  "use strict";
  var url = "/api/signal";
  var internal = false; // our own form posts and links also unload the page

  function send(signal, detail) {
    var body = JSON.stringify({ signal: signal, detail: String(detail || "").slice(0, 200) });
    if (navigator.sendBeacon && navigator.sendBeacon(url, body)) { return; }
    fetch(url, { method: "POST", body: body, keepalive: true, headers: { "Content-Type": "application/json" } });
  }
  window.kioskLockdown = { send: send, leaving: function () { internal = true; } };

  document.addEventListener("submit", function () { internal = true; }, true);
  document.addEventListener("click", function (e) {
    var link = e.target.closest && e.target.closest("a[href]");
    if (link && link.origin === location.origin) { internal = true; }
  }, true);
  window.addEventListener("beforeunload", function () {
    if (!internal) { send("navigation_attempt", "page unload"); }
  });

  document.addEventListener("fullscreenchange", function () {
    if (!document.fullscreenElement) { send("fullscreen_exit", "element fullscreen ended"); }
  });
  var kioskMode = window.matchMedia("(display-mode: fullscreen)");
  if (kioskMode.addEventListener) {
    kioskMode.addEventListener("change", function (e) {
      if (!e.matches) { send("fullscreen_exit", "window left fullscreen"); }
    });
  }
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "hidden") { send("visibility_hidden", "page hidden"); }
  });
  window.addEventListener("blur", function () { send("focus_lost", "window lost focus"); });

  document.addEventListener("contextmenu", function (e) {
    e.preventDefault();
    send("context_menu", "right click");
  });
  ["copy", "cut", "paste"].forEach(function (name) {
    document.addEventListener(name, function (e) { e.preventDefault(); send("clipboard", name); });
  });

  function shortcutName(e) {
    var key = e.key || "";
    if (key === "F12" || key === "PrintScreen") { return key; }
    var ctrl = e.ctrlKey || e.metaKey;
    if (ctrl && e.shiftKey && /^[ijc]$/i.test(key)) { return "Ctrl+Shift+" + key.toUpperCase(); }
    if (ctrl && /^[cvxpsu]$/i.test(key)) { return "Ctrl+" + key.toUpperCase(); }
    if (e.altKey && (key === "Tab" || key === "F4")) { return "Alt+" + key; }
    return null;
  }
  function onKey(e) {
    var name = shortcutName(e);
    if (!name) { return; }
    e.preventDefault();
    // PrintScreen reaches pages only on keyup; report each press once.
    if (name === "PrintScreen" ? e.type === "keyup" : e.type === "keydown") {
      send("blocked_shortcut", name);
    }
  }
  document.addEventListener("keydown", onKey, true);
  document.addEventListener("keyup", onKey, true);
})();
