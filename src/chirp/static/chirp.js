// Chirp's only script: the composer's live character counter. Everything else is htmx.
(function () {
  "use strict";
  // Counted as on the server (chirp/posts/text.py): code points after NFC, each URL as 23.
  var URL_WEIGHT = 23;
  var URL_RE = /https?:\/\/[^\s<>"'`]+/gi;
  var TRAILING = /[.,;:!?'")\]}]+$/;

  function postLength(text) {
    var normal = text.normalize("NFC");
    var total = Array.from(normal).length;
    var match;
    URL_RE.lastIndex = 0;
    while ((match = URL_RE.exec(normal)) !== null) {
      var url = match[0].replace(TRAILING, "");
      if (url.length > "https://".length) {
        total += URL_WEIGHT - Array.from(url).length;
      }
    }
    return total;
  }

  function update(textarea) {
    var max = parseInt(textarea.dataset.maxLength, 10);
    var form = textarea.form;
    var counter = form.querySelector("[data-counter-for='" + textarea.id + "']");
    var button = form.querySelector("button[type=submit]");
    var left = max - postLength(textarea.value);
    counter.textContent = String(left);
    counter.classList.toggle("warn", left <= 20 && left >= 0);
    counter.classList.toggle("over", left < 0);
    button.disabled = left < 0 || textarea.value.trim() === "";
  }

  function wire(root) {
    root.querySelectorAll("textarea[data-max-length]").forEach(function (textarea) {
      if (textarea.dataset.wired) return;
      textarea.dataset.wired = "1";
      textarea.addEventListener("input", function () { update(textarea); });
      update(textarea);
    });
  }

  // Avatars come from Gravatar; offline or blocked, show the local placeholder instead of a
  // broken image.
  var FALLBACK_AVATAR = "/static/avatar.svg";
  function fallback(img) {
    if (img.dataset.fallback) return;
    img.dataset.fallback = "1";
    img.src = FALLBACK_AVATAR;
  }
  document.addEventListener("error", function (event) {
    var el = event.target;
    if (el && el.tagName === "IMG" && el.classList.contains("avatar")) fallback(el);
  }, true);
  function fixBroken(root) {
    root.querySelectorAll("img.avatar").forEach(function (img) {
      if (img.complete && img.naturalWidth === 0) fallback(img);
    });
  }

  window.chirpPostLength = postLength;
  document.addEventListener("DOMContentLoaded", function () { wire(document); fixBroken(document); });
  document.addEventListener("htmx:load", function (event) { wire(event.target); fixBroken(event.target); });
})();
