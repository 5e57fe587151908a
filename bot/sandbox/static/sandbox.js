// The sandbox page: sends what a person does to /sandbox/do (the server sends it to Picmim as Slack would) and
// polls /sandbox/state for what changed. No framework: the HTML is rendered on the server.
(function () {
  "use strict";
  var body = document.body;
  var as = body.dataset.as, place = body.dataset.in;
  var version = body.dataset.version;
  var main = document.getElementById("main"), tour = document.getElementById("tour"),
      modal = document.getElementById("modal"), sidebar = document.getElementById("sidebar"), composer = document.getElementById("composer");
  var uploads = [];

  function valueOf(el) {
    var kind = el.dataset.kind;
    if (kind === "checkboxes") {
      return Array.prototype.map.call(el.querySelectorAll("input:checked"), function (i) { return i.value; });
    }
    if (kind === "radio_buttons") { var c = el.querySelector("input:checked"); return c ? c.value : null; }
    if (kind === "file_input") {
      return JSON.parse(el.dataset.files || "[]").map(function (f) { return f.id || f; });
    }
    if (kind === "button") { return el.dataset.value || null; }
    if (el.tagName === "SELECT" && el.multiple) {
      return Array.prototype.map.call(el.selectedOptions, function (o) { return o.value; });
    }
    return el.value === "" ? null : el.value;
  }

  function collect(root) {
    var out = [];
    root.querySelectorAll("[data-action]").forEach(function (el) {
      if (el.dataset.kind !== "button" && el.dataset.kind !== "overflow") {
        out.push([el.dataset.block, el.dataset.action, valueOf(el)]);
      }
    });
    return out;
  }

  function send(what) {
    what.as = as;
    return fetch("/sandbox/do", {method: "POST", headers: {"Content-Type": "application/json"},
                                 body: JSON.stringify(what)})
      .then(function () { refresh(); setTimeout(refresh, 500); })
      .catch(function () { refresh(); });
  }

  function act(el) {
    var root = el.closest("[data-surface]");
    if (!root) { return; }
    if (el.dataset.confirm && !window.confirm(el.dataset.confirm)) { return; }
    Promise.all(uploads).then(function () {
      send({kind: "act", surface: JSON.parse(root.dataset.surface), block: el.dataset.block,
            action: el.dataset.action, value: valueOf(el), values: collect(root)});
    });
  }

  function react(el, name) {
    var message = el.closest("[data-surface]");
    var where = JSON.parse(message.dataset.surface);
    send({kind: "react", channel: where.channel, ts: where.ts, name: name});
  }

  function upload(input) {
    var holder = input.closest("[data-kind=file_input]");
    var selector = '[data-kind="file_input"][data-block="' + CSS.escape(holder.dataset.block) + '"][data-action="' +
                   CSS.escape(holder.dataset.action) + '"]';
    Array.prototype.forEach.call(input.files, function (file) {
      var token = "up" + Math.random().toString(36).slice(2);
      var form = new FormData();
      form.append("file", file, file.name);
      var item = document.createElement("li");
      item.dataset.upload = token;
      item.textContent = file.name + " (uploading…)";
      holder.querySelector(".bk-file-list").appendChild(item);
      var job = fetch("/sandbox/upload?as=" + encodeURIComponent(as), {method: "POST", body: form})
        .then(function (answer) { return answer.json(); })
        .then(function (answer) {
          // The window may have been redrawn meanwhile (the app updated it): the file goes to the field shown now.
          var now = document.querySelector(selector) || holder;
          var files = JSON.parse(now.dataset.files || "[]");
          files.push(answer.file);
          now.dataset.files = JSON.stringify(files);
          var shown = now.querySelector('li[data-upload="' + token + '"]');
          if (!shown) { shown = document.createElement("li"); now.querySelector(".bk-file-list").appendChild(shown); }
          shown.textContent = answer.file.name;
          shown.className = "uploaded";
        });
      uploads.push(job);
    });
    input.value = "";
  }

  function isText(el) {
    return el.tagName === "TEXTAREA" || (el.tagName === "INPUT" && ["text", "url", "email", "number"].indexOf(el.type) >= 0);
  }

  document.addEventListener("click", function (ev) {
    var button = ev.target.closest("[data-kind=button]");
    if (button) {
      if (button.tagName !== "A") { ev.preventDefault(); }
      act(button);
      return;
    }
    var reaction = ev.target.closest("[data-react]");
    if (reaction) { react(reaction, reaction.dataset.react); return; }
    if (ev.target.closest(".modal-close, .modal-x")) {
      var form = ev.target.closest("form.modal");
      send({kind: "close", view_id: form.dataset.view});
      return;
    }
    var reply = ev.target.closest(".reply");
    if (reply && composer) {
      composer.elements.thread_ts.value = reply.dataset.thread;
      composer.querySelector(".replying").hidden = false;
      composer.elements.text.focus();
      return;
    }
    if (ev.target.closest(".cancel-thread") && composer) {
      composer.elements.thread_ts.value = "";
      composer.querySelector(".replying").hidden = true;
    }
  });

  document.addEventListener("change", function (ev) {
    var el = ev.target;
    if (el.id === "who") { el.form.submit(); return; }
    if (el.classList.contains("add-reaction")) { if (el.value) { react(el, el.value); } el.value = ""; return; }
    if (el.classList.contains("bk-file-input")) { upload(el); return; }
    var holder = el.closest("[data-action]");
    if (holder && holder.dataset.fire && !isText(holder)) { act(holder); }
  });

  document.addEventListener("keydown", function (ev) {
    var el = ev.target;
    if (ev.key === "Enter" && el.dataset && el.dataset.fire && el.tagName === "INPUT" && isText(el)) {
      ev.preventDefault();
      act(el);
    }
  });

  document.addEventListener("submit", function (ev) {
    var form = ev.target;
    ev.preventDefault();
    if (form === composer) {
      var text = form.elements.text.value;
      form.elements.text.value = "";
      send({kind: "say", channel: form.dataset.channel, text: text, thread_ts: form.elements.thread_ts.value || null});
      form.elements.thread_ts.value = "";
      form.querySelector(".replying").hidden = true;
    } else if (form.classList.contains("modal")) {
      var submit = form.querySelector(".modal-submit");
      if (submit) { submit.disabled = true; }
      Promise.all(uploads).then(function () {
        send({kind: "submit", view_id: form.dataset.view, values: collect(form)})
          .then(function () { if (submit) { submit.disabled = false; } });
      });
    } else {
      form.submit();
    }
  });

  function keep(root) {
    var kept = {};
    root.querySelectorAll("[data-action]").forEach(function (el) {
      if (el.dataset.kind === "button" || el.dataset.kind === "overflow") { return; }
      var list = el.querySelector(".bk-file-list");
      kept[el.dataset.block + "\u0000" + el.dataset.action] = {value: valueOf(el), files: el.dataset.files,
                                                               list: list ? list.innerHTML : null};
    });
    return kept;
  }

  function restore(root, kept) {
    root.querySelectorAll("[data-action]").forEach(function (el) {
      var was = kept[el.dataset.block + "\u0000" + el.dataset.action];
      if (!was) { return; }
      var kind = el.dataset.kind, value = was.value;
      if (kind === "file_input") {
        el.dataset.files = was.files || "[]";
        var list = el.querySelector(".bk-file-list");
        if (was.list !== null && list) { list.innerHTML = was.list; }
      } else if (kind === "checkboxes" || kind === "radio_buttons") {
        var chosen = [].concat(value || []);
        el.querySelectorAll("input").forEach(function (i) { i.checked = chosen.indexOf(i.value) >= 0; });
      } else if (el.tagName === "SELECT" && el.multiple) {
        Array.prototype.forEach.call(el.options, function (o) { o.selected = (value || []).indexOf(o.value) >= 0; });
      } else {
        el.value = value === null ? "" : value;
      }
    });
  }

  function refresh() {
    var url = "/sandbox/state?as=" + encodeURIComponent(as) + "&in=" + encodeURIComponent(place);
    return fetch(url, {cache: "no-store"}).then(function (answer) { return answer.json(); }).then(function (state) {
      if (String(state.version) !== String(version)) {
        version = state.version;
        var messages = document.getElementById("messages");
        var atEnd = !messages || messages.scrollTop + messages.clientHeight >= messages.scrollHeight - 40;
        main.innerHTML = state.main;
        messages = document.getElementById("messages");
        if (messages && atEnd) { messages.scrollTop = messages.scrollHeight; }
      }
      if (modal.dataset.key !== state.modal_key) {
        var before = modal.querySelector("form.modal"), after;
        var kept = before ? keep(before) : null;
        modal.dataset.key = state.modal_key;
        modal.innerHTML = state.modal;
        after = modal.querySelector("form.modal");
        // Slack keeps what a person typed or chose when the app updates the same window (same blocks).
        if (kept && after && before.dataset.view === after.dataset.view) { restore(after, kept); } else { uploads = []; }
      }
      if (tour.innerHTML !== state.tour) { tour.innerHTML = state.tour; }
      if (sidebar.innerHTML !== state.sidebar) { sidebar.innerHTML = state.sidebar; }
    }).catch(function () { /* the server restarts: the next poll tries again */ });
  }

  var messages = document.getElementById("messages");
  if (messages) { messages.scrollTop = messages.scrollHeight; }
  setInterval(refresh, 1000);
})();
