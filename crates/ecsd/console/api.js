// api.js: the console's client of the ecsd API: the signed-in session (an AK/SK, or an IAM
// token from a password), each call signed or token-bearing, Huawei error bodies read into one
// shape, and the job-events stream.
//
// The session lives in this tab's sessionStorage: it survives a reload and ends with the tab.

import { authorization, canSign, sdkDate } from "./sign.js";

const STORAGE = "ecsd.console.session";
const JOBS = "ecsd.console.jobs";

let session = restore();

function restore() {
  try {
    const s = JSON.parse(sessionStorage.getItem(STORAGE) || "null");
    if (s && s.kind === "token" && Date.parse(s.expires) <= Date.now()) return null;
    return s;
  } catch {
    return null;
  }
}

export function current() {
  return session;
}

export function signOut() {
  session = null;
  sessionStorage.removeItem(STORAGE);
  sessionStorage.removeItem(JOBS);
}

/** A refusal from the API, read from whichever of Huawei's error shapes it came in. */
export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

function readError(status, body) {
  if (body && typeof body === "object") {
    const e = body.error;
    if (e && typeof e === "object" && e.message) return new ApiError(status, String(e.code ?? status), e.message);
    if (body.error_code) return new ApiError(status, body.error_code, body.error_msg || "");
    // Nova and Keystone: `{"itemNotFound": {"code": 404, "message": "..."}}`.
    const inner = Object.values(body).find((v) => v && typeof v === "object" && v.message);
    if (inner) return new ApiError(status, String(inner.code ?? status), inner.message);
  }
  return new ApiError(status, String(status), `The service answered ${status}.`);
}

/** The headers of one call: signed with the AK/SK, or carrying the token. */
async function headersFor(auth, method, path, query, text, accept) {
  const headers = { "content-type": "application/json", "x-sdk-date": sdkDate(), "x-project-id": auth.project };
  if (accept) headers.accept = accept;
  if (auth.kind === "token") {
    headers["x-auth-token"] = auth.token;
    return headers;
  }
  // The browser sends `Host` itself; it is signed as the server will see it.
  const signed = { ...headers, host: location.host };
  headers.authorization = await authorization({ method, path, query, headers: signed, body: text }, auth.ak, auth.sk);
  return headers;
}

async function send(auth, method, target, body, { accept, signal } = {}) {
  const path = target.replaceAll("{p}", auth.project);
  const [p, q] = path.split("?");
  const text = body === undefined ? "" : JSON.stringify(body);
  const headers = await headersFor(auth, method, p, q, text, accept);
  let resp;
  try {
    resp = await fetch(path, { method, headers, body: text === "" ? undefined : text, signal });
  } catch (e) {
    if (e.name === "AbortError") throw e;
    throw new ApiError(0, "network", "The service cannot be reached. Is ecsd running?");
  }
  return resp;
}

/** A call as the signed-in session; the JSON answer, or an ApiError. `{p}` is the project. */
export async function call(method, target, body, options = {}) {
  if (!session) throw new ApiError(401, "signin", "Sign in first.");
  const resp = await send(session, method, target, body, options);
  try {
    return await expectJson(resp);
  } catch (err) {
    if (resp.status === 401) {
      // The token expired or the keys were changed: back to the sign-in page.
      signOut();
      window.dispatchEvent(new CustomEvent("ecsd:signed-out", { detail: err }));
    }
    throw err;
  }
}

/** Signs in with an access key: finds the project if none was given, then proves the keys work. */
export async function signInWithKeys(ak, sk, project) {
  if (!canSign()) {
    throw new ApiError(0, "insecure", "This page cannot sign requests here: open it over HTTPS or on localhost, or sign in with a password.");
  }
  const probe = { kind: "keys", ak, sk, project: project || "" };
  try {
    if (!project) {
      const found = await expectJson(await send(probe, "GET", "/v3/projects"));
      if (!found.projects || found.projects.length === 0) throw new ApiError(0, "project", "These keys have no project.");
      probe.project = found.projects[0].id;
    }
    await expectJson(await send(probe, "GET", "/v1/{p}/cloudservers/detail?limit=1"));
  } catch (e) {
    if (e.status === 401) e.message = `These keys were refused: check the access key and the secret key. (${e.message})`;
    if (e.code === "Ecs.0023") e.message = "These keys belong to another project: check the project ID, or leave it empty.";
    throw e;
  }
  save({ ...probe, label: ak });
}

/** Signs in with a user's password through the IAM token API. */
export async function signInWithPassword(user, password, account) {
  const identity = { methods: ["password"], password: { user: { name: user, password } } };
  if (account) identity.password.user.domain = { name: account };
  let resp;
  try {
    resp = await fetch("/v3/auth/tokens", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ auth: { identity } }),
    });
  } catch {
    throw new ApiError(0, "network", "The service cannot be reached. Is ecsd running?");
  }
  const body = await resp.json().catch(() => null);
  if (!resp.ok) {
    const err = readError(resp.status, body);
    if (resp.status === 401) err.message = "The user name or password is wrong.";
    throw err;
  }
  save({
    kind: "token",
    token: resp.headers.get("x-subject-token"),
    project: body.token.project.id,
    userId: body.token.user.id,
    expires: body.token.expires_at,
    label: body.token.user.name,
  });
}

/** The answer's JSON (null for an empty body), or its error as an ApiError. */
async function expectJson(resp) {
  const text = await resp.text();
  let body = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    body = null;
  }
  if (!resp.ok) throw readError(resp.status, body);
  return body;
}

function save(s) {
  session = s;
  sessionStorage.setItem(STORAGE, JSON.stringify(s));
}

/** Jobs started from this tab, newest first, for the jobs page. */
export function rememberJob(jobId, what) {
  const list = startedJobs().filter((j) => j.id !== jobId);
  list.unshift({ id: jobId, what, at: new Date().toISOString() });
  sessionStorage.setItem(JOBS, JSON.stringify(list.slice(0, 50)));
}

export function startedJobs() {
  try {
    return JSON.parse(sessionStorage.getItem(JOBS) || "[]");
  } catch {
    return [];
  }
}

/**
 * Follows a job's events (`GET /ecsd/v1/{p}/jobs/{id}/events` as server-sent events): `onView`
 * gets the whole view at the start and at the end, `onEvent` each step entry in between.
 * Resolves with the final view. Where the stream breaks off, the view is polled instead.
 */
export async function followJob(jobId, { onView, onEvent, signal }) {
  const path = `/ecsd/v1/{p}/jobs/${encodeURIComponent(jobId)}/events`;
  onView(await call("GET", path, undefined, { signal }));
  try {
    const resp = await send(session, "GET", path, undefined, { accept: "text/event-stream", signal });
    if (!resp.ok || !resp.body) throw readError(resp.status, await resp.json().catch(() => null));
    const end = await readStream(resp.body, { onEvent, signal });
    if (end) {
      onView(end);
      return end;
    }
  } catch (e) {
    if (e.name === "AbortError") throw e;
  }
  for (;;) {
    const view = await call("GET", path, undefined, { signal });
    onView(view);
    if (view.status === "SUCCESS" || view.status === "FAIL") return view;
    await new Promise((r) => setTimeout(r, 1000));
  }
}

/** Reads server-sent events until `end` (returns its view) or the stream closes (null). */
async function readStream(body, { onEvent, signal }) {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  signal?.addEventListener("abort", () => reader.cancel().catch(() => {}));
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return null;
    buffer += value;
    let cut;
    while ((cut = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, cut);
      buffer = buffer.slice(cut + 2);
      let event = "message";
      const data = [];
      for (const line of block.split("\n")) {
        if (line.startsWith("event:")) event = line.slice(6).trim();
        else if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
      }
      if (data.length === 0) continue;
      const payload = JSON.parse(data.join("\n"));
      if (event === "end") return payload;
      if (event === "error") throw readError(404, payload);
      onEvent(event, payload);
    }
  }
}
