// The live camera picture on the check-in screen: reload the still every half second.
(function () {
  "use strict";
  var img = document.getElementById("preview");
  if (!img) { return; }
  var base = img.getAttribute("src");
  setInterval(function () {
    var next = new Image();
    next.onload = function () { img.src = next.src; };
    next.src = base + "?t=" + Date.now();
  }, 500);
})();
