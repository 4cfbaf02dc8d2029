// Review queue keys: c confirm, d dismiss, n focus the note of the first flag still shown.
// Ignored while typing, so a note can contain any letter.
(function () {
  "use strict";
  function firstFlag() { return document.querySelector("li.flag"); }
  document.addEventListener("keydown", function (event) {
    var target = event.target;
    if (event.ctrlKey || event.metaKey || event.altKey) { return; }
    if (target && (target.tagName === "TEXTAREA" || target.tagName === "INPUT")) { return; }
    var flag = firstFlag();
    if (!flag) { return; }
    var selector = { c: "button.confirm", d: "button.dismiss", n: "textarea" }[event.key];
    if (!selector) { return; }
    event.preventDefault();
    var element = flag.querySelector(selector);
    if (event.key === "n") { element.focus(); } else { element.click(); }
  });
})();
