// The web pages' one script: who is asking (Telegram's initData), the theme, and saving each field at once.
// Served by us ('self' in the Content-Security-Policy); no inline script, no build step.
"use strict";
(function () {
  var hash = new URLSearchParams(location.hash.replace(/^#/, ""));
  var tg = window.Telegram && window.Telegram.WebApp;
  var initData = (tg && tg.initData) || hash.get("tgWebAppData") || sessionStorage.getItem("tgInitData") || "";
  if (initData) { sessionStorage.setItem("tgInitData", initData); }

  // Telegram's theme: its colours become the CSS variables the stylesheet reads.
  var theme = hash.get("tgWebAppThemeParams");
  if (theme) {
    try {
      var params = JSON.parse(theme);
      var root = document.documentElement;
      root.classList.add("tg");
      Object.keys(params).forEach(function (key) {
        if (/^[a-z_]+$/.test(key) && /^#[0-9a-fA-F]{3,8}$/.test(params[key])) {
          root.style.setProperty("--tg-theme-" + key.replace(/_/g, "-"), params[key]);
        }
      });
      var bg = params.bg_color || "#ffffff";
      var dark = parseInt(bg.slice(1, 3), 16) + parseInt(bg.slice(3, 5), 16) + parseInt(bg.slice(5, 7), 16) < 384;
      if (dark) { root.classList.add("tg-dark"); }
    } catch (error) { /* a theme we cannot read: the default colours */ }
  }
  if (tg && tg.ready) { tg.ready(); }

  function headers() {
    var form = document.getElementById("form") || document.getElementById("review");
    var h = { "X-Requested-With": "fetch" };
    if (initData) { h["X-Telegram-Init-Data"] = initData; }
    if (form && form.dataset.csrf) { h["X-CSRF-Token"] = form.dataset.csrf; }
    return h;
  }

  function show(element, answer) {
    element.classList.remove("saved", "ask", "error");
    if (answer.kind) { element.classList.add(answer.kind); }
    element.innerHTML = answer.html || "";
  }

  function post(url, body) {
    return fetch(url, { method: "POST", headers: headers(), body: body, credentials: "same-origin" })
      .then(function (response) {
        return response.json().catch(function () { return { kind: "error", html: response.statusText }; });
      });
  }

  function refreshSummary(answer) {
    var summary = document.getElementById("summary");
    if (summary && answer.summary) { summary.innerHTML = answer.summary; }
  }

  function saveValue(card, pick) {
    var form = document.getElementById("form");
    var input = card.querySelector("input.value");
    var reading = card.querySelector(".reading");
    var body = new FormData();
    body.append("period", form.dataset.period);
    body.append("item", card.dataset.item);
    body.append("typed", input.value);
    if (pick !== undefined) { body.append("pick", pick); }
    reading.classList.remove("saved", "ask", "error");
    reading.textContent = form.dataset.saving || "…";
    return post(form.dataset.valueUrl, body).then(function (answer) {
      show(reading, answer);
      if (answer.kind === "saved" && answer.shown !== undefined) { input.value = answer.shown; }
      refreshSummary(answer);
    });
  }

  function load(main) {
    return fetch(main.dataset.src, { headers: headers(), credentials: "same-origin" }).then(function (response) {
      return response.text().then(function (text) { main.innerHTML = text; });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var main = document.getElementById("main");
    if (main && main.dataset.src && !document.getElementById("form")) { load(main); }

    document.addEventListener("change", function (event) {
      var target = event.target;
      if (target.matches && target.matches("input.value")) { saveValue(target.closest(".card")); }
    });
    document.addEventListener("keydown", function (event) {
      var target = event.target;
      if (event.key === "Enter" && target.matches && target.matches("input.value")) {
        event.preventDefault();
        target.blur();
      }
    });
    document.addEventListener("click", function (event) {
      var file = event.target.closest ? event.target.closest("a.evidence-file") : null;
      if (file && initData) {
        // In the Mini App a link cannot carry initData: fetch the file with it, then save it.
        event.preventDefault();
        fetch(file.href, { headers: headers(), credentials: "same-origin" })
          .then(function (response) { return response.blob(); })
          .then(function (blob) {
            var url = URL.createObjectURL(blob);
            var save = document.createElement("a");
            save.href = url;
            save.download = file.textContent;
            document.body.appendChild(save);
            save.click();
            save.remove();
            setTimeout(function () { URL.revokeObjectURL(url); }, 10000);
          });
        return;
      }
      var target = event.target.closest ? event.target.closest("button") : null;
      if (!target) { return; }
      if (target.dataset.pick !== undefined) {
        event.preventDefault();
        saveValue(target.closest(".card"), target.dataset.pick);
      } else if (target.dataset.action === "submit") {
        event.preventDefault();
        var form = document.getElementById("form");
        var body = new FormData();
        body.append("period", form.dataset.period);
        target.disabled = true;
        post(form.dataset.submitUrl, body).then(function (answer) {
          target.disabled = false;
          var banner = document.getElementById("banner");
          if (banner) { banner.outerHTML = answer.banner || ""; }
          refreshSummary(answer);
          var result = document.getElementById("submit-result");
          if (result) { show(result, answer); }
        });
      }
    });
    document.addEventListener("submit", function (event) {
      var target = event.target;
      if (target.matches("form.review-form")) {
        // A review decision: the answer says what was done; the table is shown again as it stands.
        event.preventDefault();
        var review = document.getElementById("review");
        var card = target.closest(".unit-card");
        var code = card ? card.dataset.unit : "";
        post(review.dataset.actUrl, new FormData(target)).then(function (answer) {
          if (answer.body) {
            var main = document.getElementById("main");
            main.innerHTML = answer.body;
            var again = main.querySelector('.unit-card[data-unit="' + code + '"] .review-result');
            if (again) { show(again, answer); }
          } else {
            var result = card && card.querySelector(".review-result");
            if (result) { show(result, answer); }
          }
        });
        return;
      }
      if (!target.matches("form.evidence-form")) { return; }
      event.preventDefault();
      var form = document.getElementById("form");
      var card = target.closest(".card");
      var body = new FormData(target);
      body.append("period", form.dataset.period);
      body.append("item", card.dataset.item);
      var result = card.querySelector(".evidence-result");
      post(form.dataset.evidenceUrl, body).then(function (answer) {
        show(result, answer);
        if (answer.kind === "saved") {
          target.reset();
          var kept = card.querySelector(".kept");
          if (kept && answer.kept !== undefined) { kept.innerHTML = answer.kept; }
          refreshSummary(answer);
        }
      });
    });
  });
}());
