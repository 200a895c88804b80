// Chirp's only script, and none of it is needed for the site to work: the live character
// counters (composer, Edit profile), avatars that fail to load, messages when an htmx request
// fails, keyboard focus after in-place changes, "Load more" kept in the address for Back,
// local times, and behaviour that would otherwise be inline handlers (which the
// Content-Security-Policy refuses).
(function () {
  "use strict";

  // ---- Post length, counted as the server does (chirp/posts/text.py): code points after NFC,
  // every http(s) URL as 23. URLs are found the way linkify-it finds them there: a scheme not
  // glued to a preceding word, a valid host, an optional port and path, and no trailing
  // punctuation or unbalanced closing quote or bracket.
  var URL_WEIGHT = 23;
  var LABEL = "[\\p{L}\\p{N}](?:[\\p{L}\\p{N}-]*[\\p{L}\\p{N}])?";
  var URL_RE = new RegExp(
    "(?<![\\p{L}\\p{N}_.:/@-])https?://(?:[^\\s/?#@<>\"]+@)?" + LABEL + "(?:\\." + LABEL + ")*" +
      "(?::(\\d{1,5}))?(?:[/?#][^\\s<>]*|(?![\\p{L}\\p{N}_@-]))",
    "giu"
  );
  var ALWAYS_TRAILING = ".,;:!?*";
  var OPENERS = { ")": "(", "]": "[", "}": "{" };

  function occurrences(text, ch) {
    return text.split(ch).length - 1;
  }

  function trimUrl(url) {
    for (;;) {
      var last = url.charAt(url.length - 1);
      var strip =
        ALWAYS_TRAILING.indexOf(last) >= 0 ||
        ((last === "'" || last === '"') && occurrences(url, last) % 2 === 1) ||
        (OPENERS[last] !== undefined && occurrences(url, OPENERS[last]) < occurrences(url, last));
      if (!strip) return url;
      url = url.slice(0, -1);
    }
  }

  function postLength(text) {
    var normal = text.replace(/\r\n?/g, "\n").normalize("NFC");
    var total = Array.from(normal).length;
    var match;
    URL_RE.lastIndex = 0;
    while ((match = URL_RE.exec(normal)) !== null) {
      if (match[1] !== undefined && parseInt(match[1], 10) > 65535) continue;
      total += URL_WEIGHT - Array.from(trimUrl(match[0])).length;
    }
    return total;
  }

  // ---- Composer: counter, disabled button, Ctrl/Cmd+Enter, cleared after a post is sent.
  function updateCounter(textarea) {
    var form = textarea.form;
    var max = parseInt(textarea.dataset.maxLength, 10);
    var counter = form.querySelector("[data-counter-for='" + textarea.id + "']");
    var status = form.querySelector("[data-counter-status]");
    var button = form.querySelector("button[type=submit]");
    var left = max - postLength(textarea.value);
    // The page says the limit in words; with this script running, the live count takes over.
    form.dataset.live = "1";
    var state = left < 0 ? "over" : left <= 20 ? "warn" : "ok";
    // A reply composer has no counter of its own: only its button follows the text.
    if (counter) {
      counter.hidden = false;
      counter.textContent = String(left);
      counter.classList.toggle("warn", state === "warn");
      counter.classList.toggle("over", state === "over");
    }
    textarea.setAttribute("aria-invalid", state === "over" ? "true" : "false");
    // A post may be images only (media.js sets these flags), but waits for running uploads.
    var blank = textarea.value.trim() === "" && form.dataset.hasMedia !== "1";
    button.disabled = left < 0 || blank || form.dataset.uploading === "1";
    // Screen readers hear about the limit when it gets close, not on every keystroke.
    if (status && status.dataset.state !== state) {
      status.dataset.state = state;
      status.textContent =
        state === "over" ? "Over the limit by " + -left + " characters" :
        state === "warn" ? left + " characters left" : "";
    }
  }

  function wireComposers(root) {
    root.querySelectorAll("textarea[data-max-length]").forEach(function (textarea) {
      if (textarea.dataset.wired) return;
      textarea.dataset.wired = "1";
      textarea.addEventListener("input", function () { updateCounter(textarea); });
      textarea.addEventListener("keydown", function (event) {
        if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
          var button = textarea.form.querySelector("button[type=submit]");
          event.preventDefault();
          if (!button.disabled) textarea.form.requestSubmit(button);
        }
      });
      updateCounter(textarea);
      if (location.hash === "#" + textarea.id) textarea.focus();
    });
  }

  // ---- Other limited fields (Edit profile): characters left, counted as the server does
  // (code points after NFC); the page states the limit, the server refuses what is over it.
  function updateCharCount(counter) {
    var field = document.getElementById(counter.dataset.charCountFor);
    if (!field) return;
    var left = parseInt(counter.dataset.limit, 10) - Array.from(field.value.trim().normalize("NFC")).length;
    counter.hidden = false;
    counter.textContent = String(left);
    counter.classList.toggle("warn", left >= 0 && left <= 10);
    counter.classList.toggle("over", left < 0);
  }

  function wireCharCounts(root) {
    root.querySelectorAll("[data-char-count-for]").forEach(function (counter) {
      var field = document.getElementById(counter.dataset.charCountFor);
      if (!field || field.dataset.counted) return;
      field.dataset.counted = "1";
      field.addEventListener("input", function () { updateCharCount(counter); });
      updateCharCount(counter);
    });
  }

  document.addEventListener("htmx:afterRequest", function (event) {
    var form = event.detail.elt;
    if (!(form instanceof HTMLFormElement) || !form.hasAttribute("data-composer")) return;
    // Only a stored post clears the composer: a refused one (422) keeps the text to fix.
    var status = event.detail.xhr.status;
    if (status < 200 || status >= 300) return;
    form.reset();
    var error = form.querySelector("[data-composer-error]");
    if (error) error.innerHTML = "";
    form.querySelectorAll("textarea[data-max-length]").forEach(updateCounter);
    // The button was disabled while sending, which drops focus to the page: put it back in
    // the composer, ready for the next post, and say that this one went out.
    var textarea = form.querySelector("textarea");
    if (textarea) textarea.focus();
    toast("Your post was sent.");
  });

  // ---- Keyboard focus: a control swapped out or removed by htmx would leave focus on <body>.
  function hadFocus(elt) {
    return elt.dataset.hadFocus === "1";
  }
  document.addEventListener("htmx:beforeRequest", function (event) {
    var elt = event.detail.elt;
    if (!(elt instanceof HTMLElement)) return;
    var active = document.activeElement;
    elt.dataset.hadFocus = active && (elt === active || elt.contains(active)) ? "1" : "";
    if (elt.hasAttribute("data-load-more")) elt.dataset.shown = String(listed(elt).length);
  });

  function succeeded(event) {
    var status = event.detail.xhr.status;
    return event.detail.successful && status >= 200 && status < 300;
  }

  // Follow and unfollow swap the whole form: focus the new button (same id) instead.
  var settledFocus = null;
  document.addEventListener("htmx:afterSettle", function () {
    if (settledFocus === null) return;
    var form = settledFocus;
    settledFocus = null;
    refocusFollow(form);
  });
  function refocusFollow(form) {
    var swapped = form.id && document.getElementById(form.id);
    var button = swapped && swapped.querySelector("button");
    if (button) button.focus();
  }

  // An action row (repost, undo) is replaced in place: focus the same control in the new row,
  // named by the form's data-refocus, once it has settled (as for follow buttons).
  var settledRefocus = null;
  document.addEventListener("htmx:afterSettle", function () {
    if (settledRefocus === null) return;
    var target = document.getElementById(settledRefocus);
    settledRefocus = null;
    if (target) target.focus();
  });

  // A deleted post fades out: focus the next post, or the one before, or the page heading.
  function focusAfterDelete(form) {
    var post = form.closest(".post");
    if (!post) return;
    var next = post.nextElementSibling;
    while (next && !next.classList.contains("post")) next = next.nextElementSibling;
    var prev = post.previousElementSibling;
    while (prev && !prev.classList.contains("post")) prev = prev.previousElementSibling;
    var target = next || prev || document.querySelector("#main h1");
    if (!target) return;
    if (!target.hasAttribute("tabindex")) target.setAttribute("tabindex", "-1");
    target.focus();
  }

  document.addEventListener("htmx:afterRequest", function (event) {
    // A control its own answer replaced is no longer in the page: htmx then tells one of its
    // old ancestors instead (as detail.elt); the request still knows the control itself.
    var config = event.detail.requestConfig;
    var elt = config ? config.elt : event.detail.elt;
    if (!(elt instanceof HTMLElement) || !succeeded(event)) return;
    // Once the new form has settled: htmx wires up swapped-in content during the settle,
    // and a button focused before that would submit as a plain form if pressed at once.
    if (elt.classList.contains("follow-form") && hadFocus(elt)) settledFocus = elt;
    if (elt.hasAttribute("data-delete-post") && hadFocus(elt)) focusAfterDelete(elt);
    if (elt.hasAttribute("data-refocus") && hadFocus(elt)) settledRefocus = elt.getAttribute("data-refocus");
    if (elt.hasAttribute("data-load-more")) loadedMore(elt);
  });

  // ---- "Load more": the address keeps the oldest post shown (?until=), so Back and reload
  // render every page loaded so far and the browser puts the scroll position back. Nothing
  // here depends on the back/forward cache, which pages with Cache-Control: no-store skip.
  function listed(link) {
    var list = document.querySelector(link.getAttribute("data-load-more") || "#timeline");
    return list ? list.querySelectorAll(":scope > .post, :scope > .user-card") : [];
  }
  function loadedMore(link) {
    var items = listed(link);
    var shown = parseInt(link.dataset.shown || "0", 10);
    var last = items[items.length - 1];
    if (last && last.classList.contains("post")) {
      var url = new URL(location.href);
      url.searchParams.set("until", last.id.replace("post-", ""));
      history.replaceState(history.state, "", url.pathname + url.search + url.hash);
    }
    // The button is gone: carry on reading from the first item it loaded.
    var first = items[shown];
    if (hadFocus(link) && first) {
      if (!first.hasAttribute("tabindex")) first.setAttribute("tabindex", "-1");
      first.focus();
    }
  }

  // The scroll position is kept in the history entry too, and put back when the page is shown
  // again by Back, Forward or reload: the browser's own restoration may run before the page
  // is laid out, and never runs at all in some browsers once the page was not cached.
  var saveTimer = null;
  function saveScroll() {
    saveTimer = null;
    var state = Object.assign({}, history.state, { chirpScroll: Math.round(window.scrollY) });
    history.replaceState(state, "");
  }
  window.addEventListener("scroll", function () {
    if (saveTimer === null) saveTimer = setTimeout(saveScroll, 200);
  }, { passive: true });
  window.addEventListener("pagehide", function () {
    if (saveTimer !== null) clearTimeout(saveTimer);
    saveScroll();
  });
  function restoreScroll() {
    var saved = history.state && history.state.chirpScroll;
    if (typeof saved === "number" && Math.abs(window.scrollY - saved) > 1) window.scrollTo(0, saved);
  }

  // ---- Times: the server writes UTC; show the reader's own zone and language instead.
  var EXACT = { weekday: "long", year: "numeric", month: "long", day: "numeric",
                hour: "numeric", minute: "2-digit", timeZoneName: "short" };
  // Relative times ("now", "5m", "3h", "2d") are the same everywhere; older posts show a
  // date, which depends on the zone.
  var RELATIVE = /^(now|\d+[mhd])$/;
  function localTimes(root) {
    var format, day, dayYear;
    try {
      format = new Intl.DateTimeFormat(undefined, EXACT);
      day = new Intl.DateTimeFormat(undefined, { month: "short", day: "numeric" });
      dayYear = new Intl.DateTimeFormat(undefined, { month: "short", day: "numeric", year: "numeric" });
    } catch (ignored) {
      return; // an old browser keeps the UTC times, which say so
    }
    var thisYear = new Date().getFullYear();
    root.querySelectorAll("time[datetime]").forEach(function (el) {
      var when = new Date(el.getAttribute("datetime"));
      if (isNaN(when.getTime())) return;
      var text = format.format(when);
      if (el.hasAttribute("title")) el.title = text;
      if (el.hasAttribute("data-exact")) {
        el.textContent = text;
      } else if (!RELATIVE.test(el.textContent.trim())) {
        el.textContent = (when.getFullYear() === thisYear ? day : dayYear).format(when);
      }
    });
  }

  // ---- Avatars come from this server; if one cannot load, hide the image and let the
  // initial underneath show instead of a broken-image icon.
  function hideBroken(img) {
    img.hidden = true;
  }
  document.addEventListener("error", function (event) {
    var el = event.target;
    if (el instanceof HTMLImageElement && el.parentElement && el.parentElement.classList.contains("avatar")) {
      hideBroken(el);
    }
  }, true);
  function fixBroken(root) {
    root.querySelectorAll(".avatar > img").forEach(function (img) {
      if (img.complete && img.naturalWidth === 0) hideBroken(img);
    });
  }

  // ---- Fields whose whole value is selected on a click (an OAuth code to copy).
  document.addEventListener("click", function (event) {
    var el = event.target;
    if (el instanceof HTMLInputElement && el.hasAttribute("data-select-on-click")) el.select();
  });

  // ---- Toasts: htmx does not swap error answers, so say what went wrong.
  function toast(message, kind) {
    var box = document.getElementById("toasts");
    if (!box) return;
    var el = document.createElement("div");
    el.className = "toast" + (kind ? " toast-" + kind : "");
    el.setAttribute("role", kind === "error" ? "alert" : "status");
    el.textContent = message;
    box.appendChild(el);
  }
  document.addEventListener("animationend", function (event) {
    if (event.animationName === "toast-out") event.target.remove();
  });

  function errorMessage(xhr) {
    try {
      var doc = new DOMParser().parseFromString(xhr.responseText, "text/html");
      var found = doc.querySelector("[data-error-message]");
      if (found && found.textContent.trim()) return found.textContent.trim();
    } catch (ignored) { /* fall through to a generic message */ }
    return "Something went wrong (" + xhr.status + "). Please try again.";
  }
  // ---- A request refused by the CSRF check (the page outlived its token: a lost cookie, a
  // new server key) comes back with a fresh token: use it on this page and send the request
  // once more, so nothing typed is lost. A second refusal is shown like any other error.
  function useCsrfToken(token) {
    var headers = {};
    try { headers = JSON.parse(document.body.getAttribute("hx-headers") || "{}"); }
    catch (ignored) { /* start afresh */ }
    headers["X-CSRF-Token"] = token;
    document.body.setAttribute("hx-headers", JSON.stringify(headers));
    document.querySelectorAll("input[name=csrf_token]").forEach(function (input) {
      input.value = token;
    });
  }

  function retriedWithFreshToken(detail) {
    var token = detail.xhr.getResponseHeader("X-CSRF-Token");
    var elt = detail.elt;
    var config = detail.requestConfig;
    if (detail.xhr.status !== 403 || !token || !config || elt.dataset.csrfRetry) return false;
    useCsrfToken(token);
    elt.dataset.csrfRetry = "1";
    // After this request has ended, so htmx sends the retry instead of queueing it.
    setTimeout(function () {
      htmx.ajax(config.verb.toUpperCase(), config.path, { source: elt }).finally(function () {
        delete elt.dataset.csrfRetry;
      });
    }, 0);
    return true;
  }

  document.addEventListener("htmx:responseError", function (event) {
    if (retriedWithFreshToken(event.detail)) return;
    toast(errorMessage(event.detail.xhr), "error");
  });
  document.addEventListener("htmx:sendError", function () {
    toast("Could not reach the server. Check your connection and try again.", "error");
  });

  // ---- Replies: the inline composer takes focus when it opens (the cursor after "@name "),
  // and once the reply is sent the note saying so does, with a link to it just after.
  document.addEventListener("htmx:afterSettle", function (event) {
    var slot = event.detail.target;
    if (!(slot instanceof HTMLElement) || !slot.classList.contains("reply-slot")) return;
    var sent = slot.querySelector("[data-reply-sent]");
    if (sent) { sent.focus(); return; }
    var textarea = slot.querySelector("[data-reply-composer] textarea");
    if (!textarea) return;
    textarea.focus();
    textarea.setSelectionRange(textarea.value.length, textarea.value.length);
  });

  // ---- A click anywhere on a post's body opens its page, as on Twitter and Mastodon: not on
  // its links, buttons or forms, not when it ends a text selection, not with a modifier key
  // (those keep their own meaning). A plain navigation, so Back returns to the list and the
  // scroll position saved on pagehide (above) is put back.
  var CONTROLS = "a, button, input, textarea, select, label, summary, form, .post-actions, .media-grid";
  function opensPost(event) {
    if (event.defaultPrevented || event.button !== 0) return null;
    if (event.ctrlKey || event.metaKey || event.shiftKey || event.altKey) return null;
    var target = event.target;
    if (!(target instanceof Element)) return null;
    var post = target.closest(".post[data-permalink]");
    if (!post || target.closest(CONTROLS)) return null;
    // A reply sent in place sits in its post's slot: a click there is not on that post.
    var slot = target.closest(".reply-slot");
    if (slot && post.contains(slot)) return null;
    var selection = window.getSelection();
    if (selection && !selection.isCollapsed && post.contains(selection.anchorNode)) return null;
    var href = post.getAttribute("data-permalink");
    return href && href !== location.pathname ? href : null;
  }
  document.addEventListener("click", function (event) {
    var href = opensPost(event);
    if (href) location.assign(href);
  });
  document.documentElement.classList.add("posts-open");

  // ---- Likes and reactions: the action row under a post is replaced whole by its answer.
  // Focus goes back to the control pressed in the new row (the like button, the reaction
  // chip), or to the react button when the control is gone (a picker choice: the menu closes).
  var rowFocus = null;
  var pendingRowFocus = null;
  document.addEventListener("htmx:beforeRequest", function (event) {
    var elt = event.detail.elt;
    var row = elt instanceof HTMLElement ? elt.closest(".post-actions") : null;
    var active = document.activeElement;
    rowFocus = row && active && row.contains(active) && active.hasAttribute("data-focus")
      ? { row: row.id, key: active.getAttribute("data-focus") } : null;
  });
  document.addEventListener("htmx:afterRequest", function (event) {
    // A refused emoji (422) only fills in the error under the field: focus stays where it is.
    if (rowFocus !== null && event.detail.xhr.status === 200 && succeeded(event)) {
      pendingRowFocus = rowFocus;
    }
    rowFocus = null;
  });
  document.addEventListener("htmx:afterSettle", function () {
    if (pendingRowFocus === null) return;
    var wanted = pendingRowFocus;
    pendingRowFocus = null;
    var row = document.getElementById(wanted.row);
    if (!row) return;
    var controls = Array.prototype.slice.call(row.querySelectorAll("[data-focus]"));
    var match = controls.filter(function (el) { return el.getAttribute("data-focus") === wanted.key; })[0] ||
      controls.filter(function (el) { return el.getAttribute("data-focus") === "react"; })[0];
    if (match) match.focus();
  });

  // ---- Share: the link under a post copies the post's address; without a clipboard (or
  // without this script) it opens the post's page, where the address bar has it.
  document.addEventListener("click", function (event) {
    var link = event.target instanceof Element ? event.target.closest("a[data-share]") : null;
    if (!link || !navigator.clipboard || event.ctrlKey || event.metaKey || event.shiftKey) return;
    event.preventDefault();
    navigator.clipboard.writeText(link.href).then(
      function () { toast("Link copied to the clipboard."); },
      function () { location.assign(link.href); }
    );
  });

  // ---- Show or hide a password while typing. The buttons are hidden in the page: without
  // this script they could do nothing, and the field stays a plain password field.
  function passwordToggles(root) {
    root.querySelectorAll("[data-password-toggle]").forEach(function (button) {
      button.hidden = false;
    });
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-password-toggle]");
    if (!button) return;
    var field = document.getElementById(button.getAttribute("aria-controls"));
    if (!field) return;
    var show = field.type === "password";
    field.type = show ? "text" : "password";
    button.setAttribute("aria-pressed", show ? "true" : "false");
  });

  window.chirp = { postLength: postLength, toast: toast };
  document.addEventListener("DOMContentLoaded", function () {
    wireComposers(document);
    wireCharCounts(document);
    fixBroken(document);
    localTimes(document);
    passwordToggles(document);
  });
  window.addEventListener("load", restoreScroll);
  document.addEventListener("htmx:load", function (event) {
    wireComposers(event.target);
    wireCharCounts(event.target);
    fixBroken(event.target);
    localTimes(event.target);
    passwordToggles(event.target);
  });
})();
