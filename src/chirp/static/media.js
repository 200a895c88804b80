// Images: the composer's uploads (sent as soon as they are chosen, with a progress bar) and
// the full-size viewer. Neither is needed: without this script the composer sends its files
// with the post, and each image links to its full-size file.
(function () {
  "use strict";

  function csrfToken() {
    try {
      return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRF-Token"] || "";
    } catch (ignored) {
      return "";
    }
  }

  function fragment(html) {
    var template = document.createElement("template");
    template.innerHTML = html;
    return template.content;
  }

  function say(message) {
    if (window.chirp && window.chirp.toast) window.chirp.toast(message);
  }

  // ---- Composer: uploads as soon as files are chosen.
  function previewsOf(picker) {
    return picker.querySelector("[data-media-previews]");
  }

  function attached(picker) {
    return previewsOf(picker).querySelectorAll("[data-media-id]").length;
  }

  function pending(picker) {
    return previewsOf(picker).querySelectorAll("[data-media-uploading]").length;
  }

  // The post may be images only; it waits for uploads still running. chirp.js's counter
  // reads these flags when it decides whether the submit button works.
  function refresh(picker) {
    var form = picker.form || picker.closest("form");
    if (!form) return;
    form.dataset.hasMedia = attached(picker) > 0 ? "1" : "";
    form.dataset.uploading = pending(picker) > 0 ? "1" : "";
    var add = picker.querySelector("[data-media-add]");
    var most = parseInt(picker.dataset.max, 10);
    if (add) add.disabled = attached(picker) + pending(picker) >= most;
    var textarea = form.querySelector("textarea[data-max-length]");
    if (textarea) textarea.dispatchEvent(new Event("input"));
  }

  function wirePreview(preview, picker) {
    if (preview.dataset.wired) return;
    preview.dataset.wired = "1";
    // The checkbox stays checked (it sends the id); the remove button replaces it.
    var keep = preview.querySelector(".media-keep");
    if (keep) keep.hidden = true;
    var remove = preview.querySelector("[data-media-remove]");
    if (!remove) return;
    remove.hidden = false;
    remove.addEventListener("click", function () {
      var id = preview.getAttribute("data-media-id");
      var next = preview.nextElementSibling || preview.previousElementSibling;
      preview.remove();
      refresh(picker);
      say("Image removed.");
      var focusTarget = next && next.querySelector("textarea, button") ||
        picker.querySelector("[data-media-add]");
      if (focusTarget) focusTarget.focus();
      // The upload is deleted now (it would expire in a day anyway).
      if (id) {
        var xhr = new XMLHttpRequest();
        xhr.open("POST", "/media/" + encodeURIComponent(id) + "/delete");
        xhr.setRequestHeader("X-CSRF-Token", csrfToken());
        xhr.send();
      }
    });
  }

  function errorItem(name, message) {
    var item = document.createElement("div");
    item.className = "media-preview media-failed";
    item.setAttribute("data-media-failed", "");
    var text = document.createElement("p");
    text.className = "form-error";
    text.setAttribute("role", "alert");
    text.textContent = name + ": " + message;
    var dismiss = document.createElement("button");
    dismiss.type = "button";
    dismiss.className = "btn btn-small";
    dismiss.textContent = "Dismiss";
    dismiss.addEventListener("click", function () { item.remove(); });
    item.appendChild(text);
    item.appendChild(dismiss);
    return item;
  }

  function refusal(xhr, picker) {
    if (xhr.status === 413) {
      var mb = Math.floor(parseInt(picker.dataset.maxBytes, 10) / 1048576);
      return "The file is too large (at most " + mb + " MB).";
    }
    var found = fragment(xhr.responseText || "").querySelector("[data-error-message]");
    if (found && found.textContent.trim()) return found.textContent.trim();
    if (xhr.status === 0) return "Could not reach the server. Check your connection and try again.";
    return "The upload failed (" + xhr.status + "). Please try again.";
  }

  function upload(file, picker) {
    var list = previewsOf(picker);
    var item = document.createElement("div");
    item.className = "media-preview media-uploading";
    item.setAttribute("data-media-uploading", "");
    var label = document.createElement("span");
    label.className = "media-file-name";
    label.textContent = file.name;
    var bar = document.createElement("progress");
    bar.max = 100;
    bar.value = 0;
    bar.setAttribute("aria-label", "Uploading " + file.name);
    item.appendChild(label);
    item.appendChild(bar);
    list.appendChild(item);
    refresh(picker);

    var data = new FormData();
    data.append("file", file, file.name);
    var xhr = new XMLHttpRequest();
    xhr.open("POST", picker.dataset.uploadUrl || "/media");
    xhr.setRequestHeader("X-CSRF-Token", csrfToken());
    xhr.upload.addEventListener("progress", function (event) {
      if (event.lengthComputable) bar.value = Math.round((event.loaded / event.total) * 100);
    });
    xhr.addEventListener("loadend", function () {
      if (xhr.status === 200) {
        bar.value = 100;
        var preview = fragment(xhr.responseText).querySelector("[data-media-id]");
        if (preview) {
          item.replaceWith(preview);
          wirePreview(preview, picker);
          refresh(picker);
          var alt = preview.querySelector("textarea");
          say(file.name + " uploaded. Add a description for people who cannot see it.");
          if (alt && !pending(picker)) alt.focus();
          return;
        }
      }
      item.replaceWith(errorItem(file.name, refusal(xhr, picker)));
      refresh(picker);
    });
    xhr.send(data);
  }

  function choose(files, picker) {
    var most = parseInt(picker.dataset.max, 10);
    var maxBytes = parseInt(picker.dataset.maxBytes, 10);
    var list = previewsOf(picker);
    list.querySelectorAll("[data-media-failed]").forEach(function (el) { el.remove(); });
    Array.prototype.forEach.call(files, function (file) {
      if (attached(picker) + pending(picker) >= most) {
        list.appendChild(errorItem(file.name, "A post may have at most " + most + " images."));
      } else if (file.size > maxBytes) {
        list.appendChild(errorItem(file.name, "The file is too large (at most " +
          Math.floor(maxBytes / 1048576) + " MB)."));
      } else {
        upload(file, picker);
      }
    });
  }

  function wirePicker(picker) {
    if (picker.dataset.wired) return;
    picker.dataset.wired = "1";
    // The files go up now: the plain form's file fields are left out of the post.
    var slots = picker.querySelector("[data-media-slots]");
    if (slots) {
      slots.hidden = true;
      slots.querySelectorAll("input, textarea").forEach(function (el) { el.disabled = true; });
    }
    var input = picker.querySelector("[data-media-input]");
    var add = picker.querySelector("[data-media-add]");
    if (!input || !add) return;
    add.hidden = false;
    add.addEventListener("click", function () { input.click(); });
    input.addEventListener("change", function () {
      choose(input.files, picker);
      input.value = "";
    });
    previewsOf(picker).querySelectorAll("[data-media-id]").forEach(function (preview) {
      wirePreview(preview, picker);
    });
    refresh(picker);
  }

  function wirePickers(root) {
    if (!(root instanceof Element || root instanceof Document)) return;
    if (root instanceof Element && root.matches("[data-media-picker]")) wirePicker(root);
    root.querySelectorAll("[data-media-picker]").forEach(wirePicker);
  }

  // A post sent: its images went with it; the composer starts empty again.
  document.addEventListener("htmx:afterRequest", function (event) {
    var form = event.detail.elt;
    var status = event.detail.xhr.status;
    if (!(form instanceof HTMLFormElement) || status < 200 || status >= 300) return;
    var picker = form.querySelector("[data-media-picker]");
    if (!picker) return;
    previewsOf(picker).innerHTML = "";
    refresh(picker);
  });

  // ---- The viewer: a post's images full size, one at a time, in a modal dialog.
  var viewer = null;
  var shown = { links: [], index: 0, opener: null };

  function button(cls, label, text) {
    var el = document.createElement("button");
    el.type = "button";
    el.className = "media-viewer-btn " + cls;
    el.setAttribute("aria-label", label);
    el.title = label;
    el.textContent = text;
    return el;
  }

  function buildViewer() {
    var dialog = document.createElement("dialog");
    dialog.className = "media-viewer";
    dialog.setAttribute("aria-label", "Image viewer");
    var figure = document.createElement("figure");
    figure.className = "media-viewer-figure";
    var img = document.createElement("img");
    img.className = "media-viewer-img";
    var caption = document.createElement("figcaption");
    caption.className = "media-viewer-caption";
    var alt = document.createElement("p");
    alt.className = "media-viewer-alt";
    var meta = document.createElement("p");
    meta.className = "media-viewer-meta";
    var count = document.createElement("span");
    count.className = "media-viewer-count";
    var original = document.createElement("a");
    original.className = "media-viewer-original";
    original.textContent = "Open original";
    meta.appendChild(count);
    meta.appendChild(document.createTextNode(" · "));
    meta.appendChild(original);
    caption.appendChild(alt);
    caption.appendChild(meta);
    figure.appendChild(img);
    figure.appendChild(caption);
    var close = button("media-viewer-close", "Close", "\u00d7");
    var prev = button("media-viewer-prev", "Previous image", "\u2039");
    var next = button("media-viewer-next", "Next image", "\u203a");
    dialog.appendChild(close);
    dialog.appendChild(figure);
    dialog.appendChild(prev);
    dialog.appendChild(next);
    close.addEventListener("click", function () { dialog.close(); });
    prev.addEventListener("click", function () { move(-1); });
    next.addEventListener("click", function () { move(1); });
    // A click on the backdrop (the dialog itself, outside its contents) closes it.
    dialog.addEventListener("click", function (event) {
      if (event.target === dialog) dialog.close();
    });
    dialog.addEventListener("keydown", function (event) {
      if (event.key === "ArrowLeft") { event.preventDefault(); move(-1); }
      else if (event.key === "ArrowRight") { event.preventDefault(); move(1); }
      else if (event.key === "Tab") trapFocus(event, dialog);
    });
    dialog.addEventListener("close", function () {
      img.removeAttribute("src");
      if (shown.opener && document.contains(shown.opener)) shown.opener.focus();
    });
    document.body.appendChild(dialog);
    return {
      dialog: dialog, img: img, alt: alt, count: count, original: original,
      prev: prev, next: next, close: close
    };
  }

  function trapFocus(event, dialog) {
    var focusable = Array.prototype.filter.call(
      dialog.querySelectorAll("button, a[href]"),
      function (el) { return !el.hidden && !el.disabled; }
    );
    if (!focusable.length) return;
    var first = focusable[0];
    var last = focusable[focusable.length - 1];
    if (event.shiftKey && document.activeElement === first) {
      event.preventDefault();
      last.focus();
    } else if (!event.shiftKey && document.activeElement === last) {
      event.preventDefault();
      first.focus();
    }
  }

  function show(index) {
    var link = shown.links[index];
    if (!link) return;
    shown.index = index;
    var full = link.getAttribute("data-media-full") || link.href;
    var text = link.getAttribute("data-media-alt") || "";
    viewer.img.src = full;
    viewer.img.alt = text;
    viewer.img.width = parseInt(link.getAttribute("data-media-width"), 10) || 0;
    viewer.img.height = parseInt(link.getAttribute("data-media-height"), 10) || 0;
    viewer.alt.textContent = text;
    viewer.alt.hidden = !text;
    viewer.count.textContent = "Image " + (index + 1) + " of " + shown.links.length;
    viewer.original.href = full;
    var many = shown.links.length > 1;
    viewer.prev.hidden = !many;
    viewer.next.hidden = !many;
    viewer.prev.disabled = index === 0;
    viewer.next.disabled = index === shown.links.length - 1;
  }

  function move(step) {
    var index = shown.index + step;
    if (index < 0 || index >= shown.links.length) return;
    show(index);
    // The pressed button may just have been disabled (the first or last image).
    var active = document.activeElement;
    if (active && active.disabled) viewer.close.focus();
  }

  document.addEventListener("click", function (event) {
    if (event.button !== 0 || event.ctrlKey || event.metaKey || event.shiftKey || event.altKey) return;
    var link = event.target instanceof Element ? event.target.closest("a.media-link") : null;
    var grid = link && link.closest("[data-media-grid]");
    if (!grid || typeof HTMLDialogElement !== "function") return;
    event.preventDefault();
    if (viewer === null) viewer = buildViewer();
    shown.links = Array.prototype.slice.call(grid.querySelectorAll("a.media-link"));
    shown.opener = link;
    show(shown.links.indexOf(link));
    viewer.dialog.showModal();
    viewer.close.focus();
  });

  document.addEventListener("DOMContentLoaded", function () { wirePickers(document); });
  document.addEventListener("htmx:load", function (event) { wirePickers(event.target); });
})();
