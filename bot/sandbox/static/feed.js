// A sandbox network feed (/sandbox/<platform>) brings itself up to date every few seconds: a new post appears at
// the top and each post's figures grow, without reloading the page. Posts already shown are kept as they are
// (a playing video plays on, the post opened from Slack stays highlighted), and a reader who has scrolled down
// stays on what they are reading.
(function () {
  "use strict";
  var EVERY_MS = 3000;
  var main = document.querySelector("main");
  if (!main) { return; }

  function posts(root) { return root.querySelectorAll("article.card[id^='post-']"); }

  // The first post on screen and where it is, to put it back there after posts arrive above it.
  function anchor() {
    if (window.scrollY <= 0) { return null; }  // a reader at the top sees new posts arrive
    var found = null;
    posts(main).forEach(function (post) {
      if (!found && post.getBoundingClientRect().bottom > 0) { found = post; }
    });
    return found && {post: found, top: found.getBoundingClientRect().top};
  }

  function freshen(shown, fresh) {
    ["figures", "when"].forEach(function (part) {
      var now = fresh.querySelector("." + part), was = shown.querySelector("." + part);
      if (now && was && was.innerHTML !== now.innerHTML) { was.innerHTML = now.innerHTML; }
      if (now && !was) { shown.appendChild(document.importNode(now, true)); }
    });
  }

  function update(text) {
    var fresh = new DOMParser().parseFromString(text, "text/html").querySelector("main");
    if (!fresh) { return; }
    var kept = anchor(), previous = null;
    posts(fresh).forEach(function (post) {  // newest first, as the page shows them
      var shown = document.getElementById(post.id);
      if (shown) {
        freshen(shown, post);
      } else {
        shown = document.importNode(post, true);
        main.insertBefore(shown, previous ? previous.nextSibling : main.firstChild);
      }
      previous = shown;
    });
    if (posts(main).length) {
      main.querySelectorAll(".empty").forEach(function (note) { note.remove(); });
    }
    if (kept) { window.scrollBy(0, kept.post.getBoundingClientRect().top - kept.top); }
  }

  function poll() {
    if (document.hidden) { return; }
    fetch(location.pathname, {cache: "no-store"})
      .then(function (answer) { return answer.ok ? answer.text() : null; })
      .then(function (text) { if (text) { update(text); } })
      .catch(function () { /* the sandbox restarts: the next poll tries again */ });
  }

  setInterval(poll, EVERY_MS);
  document.addEventListener("visibilitychange", poll);  // a tab the person comes back to is brought up to date
})();
