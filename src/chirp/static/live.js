// Chirp's live parts, for logged-in pages only, and none of them needed: the home timeline's
// "N new posts" bar, the unread notification and message counts, and relative times that
// keep up. The page's own event stream (/live/events, the session cookie, same origin) carries ids only;
// new posts are fetched as HTML rendered by the same templates as the rest of the page.
// Without this script, or without EventSource, every page shows the same on its next load.
(function () {
  "use strict";

  var MOST_AT_ONCE = 40; // /live/posts shows at most this many per click
  var pending = []; // ids of new posts not shown yet, oldest first
  var known = {};

  function bar() { return document.getElementById("new-posts"); }
  function timeline() { return document.getElementById("timeline"); }

  function showBar() {
    var button = bar();
    if (!button) return;
    var n = pending.length;
    button.querySelector("[data-new-posts-label]").textContent =
      n === 1 ? "1 new post" : n + " new posts";
    button.hidden = n === 0;
  }

  function newPost(id) {
    // Only where the page shows the newest posts: the home timeline's first page.
    if (!bar() || known[id] || document.getElementById("post-" + id)) return;
    known[id] = true;
    pending.push(id);
    showBar();
  }

  function gone(id) {
    var at = pending.indexOf(id);
    if (at >= 0) pending.splice(at, 1);
    showBar();
  }

  // Above what the reader is looking at: the page is moved by as much as was added, so
  // nothing they were reading moves, unless they were at the top, where the new posts show.
  function showPending() {
    var list = timeline();
    if (!list || pending.length === 0) return;
    var ids = pending.splice(Math.max(0, pending.length - MOST_AT_ONCE));
    pending = [];
    var url = "/live/posts?" + ids.map(function (id) { return "id=" + encodeURIComponent(id); }).join("&");
    var reading = window.scrollY > list.getBoundingClientRect().top + window.scrollY;
    var before = list.scrollHeight;
    htmx.ajax("GET", url, { target: "#timeline", swap: "afterbegin" }).then(function () {
      if (reading) window.scrollBy(0, list.scrollHeight - before);
      showBar();
      var first = list.querySelector(":scope > .post");
      if (first && !reading) {
        if (!first.hasAttribute("tabindex")) first.setAttribute("tabindex", "-1");
        first.focus({ preventScroll: true });
      }
    });
  }

  // A post the page has shown meanwhile (the reader's own, sent from the composer) is not new.
  document.addEventListener("htmx:load", function () {
    var before = pending.length;
    pending = pending.filter(function (id) { return !document.getElementById("post-" + id); });
    if (pending.length !== before) showBar();
  });

  document.addEventListener("click", function (event) {
    var button = event.target instanceof Element ? event.target.closest("#new-posts") : null;
    if (button) showPending();
  });

  // A new notification: on the first page of notifications it shows at once (fetching the
  // page again marks it read, as opening the page does); anywhere else the badge in the
  // navigation counts it, up to "99+" as the server writes it.
  var BADGE_CAP = 99;
  function notified() {
    var card = document.getElementById("notifications-card");
    if (card && !/[?&]max_id=/.test(window.location.search)) {
      var url = window.location.pathname + window.location.search;
      htmx.ajax("GET", url, { target: "#notifications-card", select: "#notifications-card", swap: "outerHTML" });
      return;
    }
    var badge = document.getElementById("notifications-badge");
    var count = document.getElementById("notifications-count");
    if (!badge || !count) return;
    var n = parseInt(count.textContent, 10);
    n = (isNaN(n) ? 0 : n) + 1;
    count.textContent = n > BADGE_CAP ? BADGE_CAP + "+" : String(n);
    badge.hidden = false;
  }

  // A new message from someone else: the badge is fetched anew (its conversation may have
  // been unread already, and then the count stays).
  function messaged() {
    var badge = document.getElementById("messages-badge");
    if (!badge) return;
    htmx.ajax("GET", "/messages/badge", { target: "#messages-badge", swap: "outerHTML" });
  }

  function connect() {
    var url = document.body.getAttribute("data-live");
    if (!url || !window.EventSource) return;
    // EventSource reconnects by itself after a network error or a server restart.
    var source = new EventSource(url);
    source.addEventListener("update", function (event) { newPost(event.data); });
    source.addEventListener("delete", function (event) { gone(event.data); });
    source.addEventListener("notification", notified);
    source.addEventListener("conversation", messaged);
    window.addEventListener("pagehide", function () { source.close(); });
  }

  // ---- Relative times ("now", "5m", "3h", "2d"), as web/timefmt.py writes them, move on.
  var RELATIVE = /^(now|\d+[mhd])$/;
  function relative(seconds) {
    if (seconds < 45) return "now";
    if (seconds < 3600) return Math.max(1, Math.round(seconds / 60)) + "m";
    if (seconds < 86400) return Math.floor(seconds / 3600) + "h";
    if (seconds < 7 * 86400) return Math.floor(seconds / 86400) + "d";
    return null; // a date now: left as the page wrote it until the next load
  }
  function refreshTimes() {
    var now = Date.now();
    document.querySelectorAll("time[datetime]:not([data-exact])").forEach(function (el) {
      if (!RELATIVE.test(el.textContent.trim())) return;
      var when = Date.parse(el.getAttribute("datetime"));
      if (isNaN(when)) return;
      var text = relative(Math.max(0, (now - when) / 1000));
      if (text !== null && text !== el.textContent) el.textContent = text;
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    connect();
    setInterval(refreshTimes, 30000);
  });
})();
