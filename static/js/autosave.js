/* Autosave of the minutes' agenda items: plain JavaScript, no framework, nothing from a CDN.
 *
 * Each <form data-autosave data-key="chibo:minutes:<meeting uid>:<item pk>"> holds the textareas
 * "content" and "conclusion" and a hidden "version": the version of the item the editor started
 * from. Typing saves after a pause (and when a box loses focus); the server answers 200 with the
 * new version, or 409 with the text someone else saved first, and then nothing is overwritten
 * until the person chooses "keep mine" or "take theirs".
 *
 * Text that has not reached the server stays in localStorage under <data-key>:<version>, so a
 * lost connection, a closed tab or a dead battery never loses it: it is sent again with backoff,
 * on the browser's "online" event and when the page is opened again.
 */
(function () {
  "use strict";

  var DEBOUNCE_MS = 1500;
  var FIRST_RETRY_MS = 2000;
  var MAX_RETRY_MS = 60000;
  var FIELDS = ["content", "conclusion"];
  var stringsNode = document.getElementById("autosave-strings");
  var S = stringsNode ? JSON.parse(stringsNode.textContent) : {};
  var editors = [];

  function format(text, values) {
    return String(text || "").replace(/%\((\w+)\)s/g, function (_, name) {
      return values[name] === undefined ? "" : values[name];
    });
  }

  function csrfToken() {
    var meta = document.querySelector("meta[name=csrf-token]");
    return meta ? meta.content : "";
  }

  // localStorage can be missing or full (private mode): the editor still works, only without the
  // copy on the device.
  var store = {
    get: function (key) {
      try { return JSON.parse(window.localStorage.getItem(key)); } catch (e) { return null; }
    },
    set: function (key, value) {
      try { window.localStorage.setItem(key, JSON.stringify(value)); } catch (e) { /* kept in the page only */ }
    },
    remove: function (key) {
      try { window.localStorage.removeItem(key); } catch (e) { /* nothing to do */ }
    },
    keys: function (prefix) {
      var found = [];
      try {
        for (var i = 0; i < window.localStorage.length; i++) {
          var key = window.localStorage.key(i);
          if (key && key.indexOf(prefix) === 0) { found.push(key); }
        }
      } catch (e) { /* none */ }
      return found;
    }
  };

  function Editor(form) {
    this.form = form;
    this.prefix = form.getAttribute("data-key") + ":";
    this.versionInput = form.querySelector("input[name=version]");
    this.boxes = {};
    for (var i = 0; i < FIELDS.length; i++) {
      this.boxes[FIELDS[i]] = form.querySelector("textarea[name=" + FIELDS[i] + "]");
    }
    this.status = form.querySelector("[data-autosave-status]");
    this.conflictBox = form.querySelector("[data-autosave-conflict]");
    this.debounce = null;
    this.retry = null;
    this.retryDelay = FIRST_RETRY_MS;
    this.inflight = false;
    this.again = false;
    this.dirty = false;
    this.inConflict = false;

    var self = this;
    form.addEventListener("input", function () { self.changed(); });
    form.addEventListener("focusout", function (event) {
      if (event.target.tagName === "TEXTAREA" && self.dirty) { self.save(); }
    });
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      self.save();
    });
    this.restore();
  }

  Editor.prototype.version = function () {
    return parseInt(this.versionInput.value, 10);
  };

  Editor.prototype.texts = function () {
    var texts = {};
    for (var i = 0; i < FIELDS.length; i++) { texts[FIELDS[i]] = this.boxes[FIELDS[i]].value; }
    return texts;
  };

  Editor.prototype.fill = function (texts) {
    for (var i = 0; i < FIELDS.length; i++) {
      if (typeof texts[FIELDS[i]] === "string") { this.boxes[FIELDS[i]].value = texts[FIELDS[i]]; }
    }
  };

  Editor.prototype.sameAs = function (texts) {
    var mine = this.texts();
    for (var i = 0; i < FIELDS.length; i++) {
      if ((texts[FIELDS[i]] || "") !== mine[FIELDS[i]]) { return false; }
    }
    return true;
  };

  // One copy per item on the device, keyed by the version the text was typed on.
  Editor.prototype.remember = function () {
    var key = this.prefix + this.version();
    var stale = store.keys(this.prefix);
    for (var i = 0; i < stale.length; i++) { if (stale[i] !== key) { store.remove(stale[i]); } }
    var value = this.texts();
    value.savedOnDevice = new Date().toISOString();
    store.set(key, value);
  };

  Editor.prototype.forget = function () {
    var keys = store.keys(this.prefix);
    for (var i = 0; i < keys.length; i++) { store.remove(keys[i]); }
  };

  Editor.prototype.show = function (state, text) {
    var colours = {
      idle: "text-muted", dirty: "text-muted", saving: "text-muted", saved: "text-success",
      offline: "text-danger", retrying: "text-danger", error: "text-danger", conflict: "text-danger"
    };
    this.status.setAttribute("data-state", state);
    this.status.className = "small " + (colours[state] || "text-muted");
    this.status.textContent = text;
  };

  Editor.prototype.changed = function () {
    this.dirty = true;
    this.remember();
    if (this.inConflict) { return; }
    this.show("dirty", S.dirty);
    var self = this;
    window.clearTimeout(this.debounce);
    this.debounce = window.setTimeout(function () { self.save(); }, DEBOUNCE_MS);
  };

  Editor.prototype.save = function () {
    window.clearTimeout(this.debounce);
    window.clearTimeout(this.retry);
    if (this.inConflict || !this.dirty) { return; }
    if (this.inflight) { this.again = true; return; }
    if (navigator.onLine === false) { this.offline(); return; }
    var self = this;
    var sent = this.texts();
    var base = this.version();
    var body = new FormData();
    body.append("version", String(base));
    for (var i = 0; i < FIELDS.length; i++) { body.append(FIELDS[i], sent[FIELDS[i]]); }
    this.inflight = true;
    this.show("saving", S.saving);
    window.fetch(this.form.action, {
      method: "POST",
      body: body,
      credentials: "same-origin",
      redirect: "manual",  // a redirect means the session ended (sign-in page), not a save
      headers: { "X-CSRFToken": csrfToken(), "Accept": "application/json", "X-Requested-With": "fetch" }
    }).then(function (response) {
      if (response.type === "opaqueredirect") { return self.answer(0, null, sent); }
      return response.json().catch(function () { return null; }).then(function (data) {
        return self.answer(response.status, data, sent);
      });
    }, function () {
      self.offline();  // no answer at all: the network is down
    }).catch(function () {
      self.show("retrying", S.retrying);
      self.scheduleRetry();
    }).then(function () {
      self.inflight = false;
      if (self.again) { self.again = false; self.save(); }
    });
  };

  Editor.prototype.answer = function (status, data, sent) {
    if (status === 200 && data && typeof data.version === "number") {
      this.retryDelay = FIRST_RETRY_MS;
      this.versionInput.value = String(data.version);
      if (this.sameAs(sent)) {
        this.dirty = false;
        this.forget();
        this.show("saved", format(S.saved, { time: data.saved_at }));
      } else {
        this.remember();  // typed on while the save was on its way: send the rest on the new version
        this.again = true;
      }
    } else if (status === 409 && data && data.conflict) {
      this.conflict(data, format(S.conflict, { name: data.updated_by || S.someone }));
    } else if (status === 0) {
      this.show("error", S.signedOut);
      this.scheduleRetry();
    } else if (status >= 500 || status === 429) {
      this.show("retrying", S.retrying);
      this.scheduleRetry();
    } else {
      // Refused (the minutes were closed, no right to write): keep the text, do not retry.
      this.show("error", format(S.error, { error: (data && data.error) || status }));
    }
  };

  Editor.prototype.offline = function () {
    this.show("offline", S.offline);
    this.scheduleRetry();
  };

  Editor.prototype.scheduleRetry = function () {
    var self = this;
    window.clearTimeout(this.retry);
    this.retry = window.setTimeout(function () { self.save(); }, this.retryDelay);
    this.retryDelay = Math.min(this.retryDelay * 2, MAX_RETRY_MS);
  };

  // Someone else saved first: the boxes keep this person's text; theirs is shown beside it.
  Editor.prototype.conflict = function (theirs, message) {
    var self = this;
    this.inConflict = true;
    this.show("conflict", S.conflictStatus);
    var box = this.conflictBox;
    box.textContent = "";
    var p = document.createElement("p");
    p.className = "mb-2";
    p.textContent = message;
    box.appendChild(p);
    for (var i = 0; i < FIELDS.length; i++) {
      var label = document.createElement("div");
      label.className = "small fw-semibold mt-1";
      label.textContent = S[FIELDS[i]];
      var text = document.createElement("div");
      text.className = "border rounded p-2 bg-white small";
      text.style.whiteSpace = "pre-wrap";
      text.setAttribute("data-theirs", FIELDS[i]);
      text.textContent = theirs[FIELDS[i]] || "—";
      box.appendChild(label);
      box.appendChild(text);
    }
    var buttons = document.createElement("div");
    buttons.className = "d-flex gap-2 flex-wrap mt-2";
    var keep = document.createElement("button");
    keep.type = "button";
    keep.className = "btn btn-sm btn-party";
    keep.setAttribute("data-action", "keep-mine");
    keep.textContent = S.keepMine;
    keep.addEventListener("click", function () {
      self.resolved(theirs.version);
      self.dirty = true;
      self.remember();
      self.save();
    });
    var take = document.createElement("button");
    take.type = "button";
    take.className = "btn btn-sm btn-outline-secondary";
    take.setAttribute("data-action", "take-theirs");
    take.textContent = S.takeTheirs;
    take.addEventListener("click", function () {
      self.resolved(theirs.version);
      self.fill(theirs);
      self.dirty = false;
      self.forget();
      self.show("idle", S.idle);
    });
    buttons.appendChild(keep);
    buttons.appendChild(take);
    box.appendChild(buttons);
    box.hidden = false;
  };

  Editor.prototype.resolved = function (version) {
    this.inConflict = false;
    this.versionInput.value = String(version);
    this.conflictBox.hidden = true;
    this.conflictBox.textContent = "";
  };

  // On opening the page: text this device never sent is put back, or offered against the newer
  // saved text when someone saved the item in between.
  Editor.prototype.restore = function () {
    var keys = store.keys(this.prefix);
    if (!keys.length) { return; }
    var key = keys.sort(function (a, b) {
      return parseInt(a.slice(a.lastIndexOf(":") + 1), 10) - parseInt(b.slice(b.lastIndexOf(":") + 1), 10);
    })[keys.length - 1];
    var mine = store.get(key);
    var version = parseInt(key.slice(key.lastIndexOf(":") + 1), 10);
    if (!mine || this.sameAs(mine)) { this.forget(); return; }
    var saved = this.texts();
    this.fill(mine);
    this.dirty = true;
    if (version === this.version()) {
      this.show("dirty", S.restored);
      this.save();
    } else {
      saved.version = this.version();
      this.conflict(saved, S.conflictOld);
    }
  };

  function start() {
    var forms = document.querySelectorAll("form[data-autosave]");
    for (var i = 0; i < forms.length; i++) { editors.push(new Editor(forms[i])); }
  }

  window.addEventListener("online", function () {
    for (var i = 0; i < editors.length; i++) {
      editors[i].retryDelay = FIRST_RETRY_MS;
      editors[i].save();
    }
  });
  window.addEventListener("offline", function () {
    for (var i = 0; i < editors.length; i++) {
      if (editors[i].dirty && !editors[i].inConflict) { editors[i].show("offline", S.offline); }
    }
  });

  // htmx leaves 4xx answers unswapped; the minutes' forms answer 400/409 with the form and its
  // errors (what was typed included), so swap those in.
  document.addEventListener("htmx:beforeSwap", function (event) {
    var status = event.detail.xhr.status;
    var elt = event.detail.elt;
    if ((status === 400 || status === 409) && elt && elt.closest && elt.closest("[data-minutes]")) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
