// view_jobs.js: jobs: those started from this tab, any job looked up by its id, and one job
// followed step by step.

import { call, startedJobs } from "./api.js";
import { alertBox, badge, field, fill, h, table } from "./dom.js";
import { showJob } from "./progress.js";

export async function renderList(main, ctx) {
  const id = h("input", { name: "job_id", required: true, spellcheck: "false" });
  const form = h("form", { class: "panel", role: "search" }, field("Job ID", id), h("button", { type: "submit" }, "Show the job"));
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    ctx.go(`#/jobs/${encodeURIComponent(id.value.trim())}`);
  });
  const list = h("div");
  main.append(h("h1", {}, "Jobs"), form, h("h2", {}, "Started from this tab"), list);
  const jobs = startedJobs();
  if (jobs.length === 0) {
    fill(list, h("p", {}, "None yet: an action on a server starts one."));
    return;
  }
  const statuses = await Promise.all(
    jobs.map((j) =>
      call("GET", `/v1/{p}/jobs/${j.id}`, undefined, { signal: ctx.signal })
        .then((v) => v.status)
        .catch(() => "EXPIRED")
    )
  );
  fill(
    list,
    table(
      "Jobs started from this tab",
      ["Job", "What", "Status", "Started"],
      jobs.map((j, i) =>
        h(
          "tr",
          {},
          h("td", {}, h("a", { href: `#/jobs/${j.id}` }, h("code", {}, j.id))),
          h("td", {}, j.what),
          h("td", {}, badge(statuses[i])),
          h("td", {}, new Date(j.at).toLocaleString())
        )
      )
    )
  );
}

export async function renderJob(main, ctx, id) {
  const slot = h("div");
  main.append(h("h1", {}, "Job progress"), slot);
  try {
    await showJob(slot, id, ctx);
  } catch (e) {
    if (e.name !== "AbortError") fill(slot, alertBox(e));
  }
}
