// While a background sync is pending, refresh only the progress figures from the API: a few
// short polls, never a full-page reload, and none at all once every bar is current.
(function () {
  var url = document.currentScript.dataset.url;
  var tries = 0;
  function pending() { return document.querySelectorAll("[data-updating]").length > 0; }
  function refresh() {
    if (!pending() || tries++ >= 20) return;
    fetch(url + "?page_size=100", {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) {
        if (!data) return;
        (data.results || []).forEach(function (e) {
          var card = document.querySelector('[data-enrollment-id="' + e.id + '"]');
          if (!card) return;
          var bar = card.querySelector(".progress");
          bar.setAttribute("aria-valuenow", e.progress_percent);
          bar.firstElementChild.style.width = e.progress_percent + "%";
          card.querySelector('[data-field="progress"]').textContent = e.progress_percent;
          card.querySelector('[data-field="status"]').textContent = e.status.charAt(0).toUpperCase() + e.status.slice(1);
          var askName = document.getElementById("name-needed");
          if (askName && e.status === "completed") askName.hidden = false;  // at 100 %: the certificate needs a name
          var flag = card.querySelector("[data-updating]");
          if (flag && e.last_synced_at && (!e.last_completed_at || e.last_synced_at >= e.last_completed_at)) flag.remove();
        });
        setTimeout(refresh, 1000 + tries * 250);
      });
  }
  setTimeout(refresh, 800);
})();
