// Polls the API (the same numbers clients see) until the import finishes; no page reload.
(function () {
  const box = document.getElementById("import");
  if (!box || box.dataset.finished === "true") return;
  const field = (name) => box.querySelector('[data-field="' + name + '"]');
  const set = (name, text) => { const el = field(name); if (el) el.textContent = text; };
  const number = (n) => (n === null || n === undefined) ? "…" : n.toLocaleString();
  const labels = {queued: "Queued", validating: "Validating", running: "Running", completed: "Completed", failed: "Failed", cancelled: "Cancelled"};
  async function poll() {
    let job;
    try {
      const response = await fetch(box.dataset.url, {headers: {Accept: "application/json"}, credentials: "same-origin"});
      if (!response.ok) throw new Error(response.status);
      job = await response.json();
    } catch (e) {
      setTimeout(poll, 3000);
      return;
    }
    const finished = ["completed", "failed", "cancelled"].includes(job.status);
    const failedRows = job.counts.errors || 0;
    const label = job.status === "completed" && failedRows
      ? "Completed with " + failedRows + " error" + (failedRows === 1 ? "" : "s")
      : labels[job.status] || job.status;
    set("status", label);
    field("status").classList.toggle("warning", (job.status === "completed" && failedRows > 0) || job.status === "failed");
    field("bar").style.width = job.percent + "%";
    box.querySelector('[role="progressbar"]').setAttribute("aria-valuenow", job.percent);
    set("percent", job.percent);
    set("rows_done", number(job.rows_done));
    set("total_rows", number(job.total_rows));
    set("rate", job.rate_per_second ? job.rate_per_second + " rows/s" : "–");
    set("eta", job.eta_seconds === null ? "–" : job.eta_seconds + " s");
    for (const name of ["users_created", "enrollments_created", "already_enrolled", "errors"]) set(name, number(job.counts[name]));
    field("error").hidden = !job.error;
    field("error").querySelector("span").textContent = job.error;
    field("error_report").hidden = !job.error_report_url;
    if (field("cancel")) field("cancel").hidden = !job.cancel_url;
    field("cancelling").hidden = finished || !job.cancel_requested_at;
    if (!finished) setTimeout(poll, 1000);
  }
  setTimeout(poll, 1000);
})();
