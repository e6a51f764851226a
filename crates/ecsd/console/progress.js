// progress.js: a job followed live, step by step: its saga's steps with their status, the
// current step, the sub-jobs of a batch, the raw log, and the result at the end.

import { followJob } from "./api.js";
import { alertBox, badge, fill, h, stepLabel } from "./dom.js";

/** The step a job is at: the last one begun and not yet over. */
function currentStep(view) {
  const all = [view, ...(view.sub_jobs || [])].flatMap((j) => j.steps || []);
  const running = all.filter((s) => s.status === "RUNNING" || s.status === "UNDOING");
  return running.length ? running[running.length - 1] : null;
}

function stepItem(step) {
  const meta = [];
  if (step.attempts > 1) meta.push(`${step.attempts} attempts`);
  if (step.started_at && step.ended_at) meta.push(`${step.started_at.slice(11, 19)}–${step.ended_at.slice(11, 19)}`);
  else if (step.started_at) meta.push(`since ${step.started_at.slice(11, 19)}`);
  return h(
    "li",
    { "data-step": step.name, "data-status": step.status },
    h("span", { class: step.status === "RUNNING" ? "current" : "" }, stepLabel(step.name)),
    " ",
    badge(step.status),
    meta.length ? h("span", { class: "meta" }, meta.join(", ")) : null,
    step.error ? h("div", { class: "meta" }, `${step.error.code ? step.error.code + ": " : ""}${step.error.message}`) : null,
    step.undo ? h("div", { class: "meta" }, step.undo.ended_at ? "Undone" : "Being undone") : null
  );
}

function stepsList(view, label) {
  if (!view.steps || view.steps.length === 0) return h("p", { class: "hint" }, "No step has begun yet.");
  return h("ol", { class: "steps", "aria-label": label }, view.steps.map(stepItem));
}

/** The job's outcome, once it has one. */
function result(view) {
  if (view.status === "SUCCESS") {
    return h("div", { class: "result-ok", role: "status" }, `Job ${view.job_id} finished: SUCCESS.`);
  }
  if (view.status === "FAIL") {
    return alertBox({
      code: view.error_code,
      message: `Job ${view.job_id} failed: ${view.fail_reason || "no reason given"}.`,
    });
  }
  return null;
}

/**
 * Renders `jobId` into `slot` and keeps it live until the job ends or the page is left.
 * `onEnd(view)` runs once with the final view.
 */
export async function showJob(slot, jobId, ctx, onEnd) {
  const live = h("p", { "aria-live": "polite", class: "current" });
  const bar = h("progress", { "aria-label": "Job progress" });
  const summary = h("div");
  const steps = h("div");
  const subs = h("div");
  const outcome = h("div");
  const log = h("ol", { class: "steps" });
  fill(
    slot,
    summary,
    bar,
    live,
    outcome,
    h("h2", {}, "Steps"),
    steps,
    subs,
    h("details", {}, h("summary", {}, "The saga's log"), log)
  );
  let lastLine = "";

  const render = (view) => {
    fill(
      summary,
      h(
        "dl",
        { class: "facts" },
        h("dt", {}, "Job"),
        h("dd", {}, h("code", {}, view.job_id)),
        h("dt", {}, "Type"),
        h("dd", {}, view.job_type),
        h("dt", {}, "Status"),
        h("dd", { "data-job-status": view.status }, badge(view.status)),
        view.server_id ? [h("dt", {}, "Server"), h("dd", {}, h("a", { href: `#/servers/${view.server_id}` }, view.server_id))] : null,
        h("dt", {}, "Began"),
        h("dd", {}, view.begin_time || "—"),
        h("dt", {}, "Ended"),
        h("dd", {}, view.end_time || "—")
      )
    );
    const ended = view.status === "SUCCESS" || view.status === "FAIL";
    if (ended) {
      bar.max = 1;
      bar.value = 1;
    } else {
      bar.removeAttribute("value");
    }
    const step = currentStep(view);
    const line = ended ? `Finished: ${view.status}` : step ? `Now: ${stepLabel(step.name)}` : "Waiting to begin";
    if (line !== lastLine) live.textContent = lastLine = line;
    // A batch's own saga has no steps: its sub-jobs carry them.
    const batch = (view.sub_jobs || []).length > 0 && (view.steps || []).length === 0;
    fill(steps, batch ? h("p", { class: "hint" }, "Each server's steps are shown below.") : stepsList(view, "Steps of the job"));
    fill(
      subs,
      (view.sub_jobs || []).map((sj) =>
        h(
          "section",
          { class: "panel", "aria-label": `Sub-job ${sj.job_id}` },
          h("h3", {}, "Sub-job ", h("code", {}, sj.job_id), " ", badge(sj.status)),
          sj.server_id ? h("p", {}, "Server ", h("a", { href: `#/servers/${sj.server_id}` }, sj.server_id)) : null,
          stepsList(sj, `Steps of sub-job ${sj.job_id}`),
          sj.status === "FAIL" ? alertBox({ code: sj.error_code, message: sj.fail_reason || "failed" }) : null
        )
      )
    );
    fill(outcome, result(view));
    fill(
      log,
      [view, ...(view.sub_jobs || [])]
        .flatMap((j) => j.events || [])
        .map((e) => h("li", {}, `${e.time.slice(11, 23)} ${e.step} ${e.event}${e.error ? ": " + e.error.message : ""}`))
    );
  };

  // Each event brings the view up to date; the view is re-read at most ten times a second.
  let pending = null;
  let lastView = null;
  const refresh = () => {
    if (pending) return;
    pending = setTimeout(async () => {
      pending = null;
      if (lastView) render(lastView);
    }, 100);
  };
  try {
    const end = await followJob(jobId, {
      signal: ctx.signal,
      onView: (v) => {
        lastView = v;
        render(v);
      },
      onEvent: (kind, payload) => {
        if (!lastView) return;
        if (kind === "step") {
          mergeEvent(lastView, payload);
          refresh();
        } else if (kind === "status") {
          const j = [lastView, ...(lastView.sub_jobs || [])].find((x) => x.job_id === payload.job_id);
          if (j) j.status = payload.status;
          refresh();
        }
      },
    });
    if (onEnd) onEnd(end);
    return end;
  } catch (e) {
    if (e.name === "AbortError") return null;
    fill(outcome, alertBox(e));
    return null;
  }
}

/** Folds one log entry into the view's steps, as the server folds them. */
function mergeEvent(view, e) {
  const job = [view, ...(view.sub_jobs || [])].find((j) => j.job_id === e.job_id);
  if (!job) return;
  // The stream begins with the whole log, which the first view already holds.
  if ((job.events || []).some((x) => x.seq === e.seq)) return;
  job.events = [...(job.events || []), e];
  let step = job.steps.find((s) => s.name === e.step);
  if (!step) {
    step = { name: e.step, status: "RUNNING", attempts: 0, started_at: e.time, ended_at: "", error: null, undo: null };
    job.steps.push(step);
  }
  switch (e.event) {
    case "started":
      step.status = "RUNNING";
      step.attempts += 1;
      step.ended_at = "";
      break;
    case "succeeded":
      step.status = "SUCCESS";
      step.ended_at = e.time;
      break;
    case "failed":
      step.status = "FAIL";
      step.ended_at = e.time;
      step.error = e.error;
      break;
    case "undo_started":
      step.status = "UNDOING";
      step.undo = { attempts: (step.undo?.attempts || 0) + 1, started_at: e.time, ended_at: "" };
      break;
    case "undo_finished":
      step.status = "UNDONE";
      if (step.undo) step.undo.ended_at = e.time;
      break;
  }
}
