// Polls GET /api/operations/{id}/ (what API clients see) until the operation ends; no page reload.
(function () {
  const box = document.getElementById("operation");
  if (!box || box.dataset.finished === "true") return;
  const field = (name) => box.querySelector('[data-field="' + name + '"]');
  const labels = {queued: "Queued", running: "Running", completed: "Completed", failed: "Failed", cancelled: "Cancelled"};
  async function poll() {
    let operation;
    try {
      const response = await fetch(box.dataset.url, {headers: {Accept: "application/json"}, credentials: "same-origin"});
      if (!response.ok) throw new Error(response.status);
      operation = await response.json();
    } catch (e) {
      setTimeout(poll, 3000);
      return;
    }
    const finished = ["completed", "failed", "cancelled"].includes(operation.state);
    field("state").textContent = labels[operation.state] || operation.state;
    field("state").classList.toggle("warning", operation.state === "failed");
    field("bar").style.width = operation.completion + "%";
    box.querySelector('[role="progressbar"]').setAttribute("aria-valuenow", operation.completion);
    field("completion").textContent = operation.completion;
    field("message").textContent = operation.message;
    if (operation.result_url) field("result").href = operation.result_url;
    field("result").hidden = !operation.result_url;
    if (field("cancel")) field("cancel").hidden = finished;
    if (!finished) setTimeout(poll, 1000);
  }
  setTimeout(poll, 500);
})();
