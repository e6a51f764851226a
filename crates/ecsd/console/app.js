// app.js: the console's shell: the hash router, the header, and the life of each page (its
// timers and streams stop when the user leaves it).

import { current, signOut } from "./api.js";
import { fill, h } from "./dom.js";
import * as signin from "./view_signin.js";
import * as servers from "./view_servers.js";
import * as server from "./view_server.js";
import * as create from "./view_create.js";
import * as os from "./view_os.js";
import * as keypairs from "./view_keypairs.js";
import * as images from "./view_images.js";
import * as jobs from "./view_jobs.js";

/** Each route: a pattern over the hash and the page that renders it. */
const ROUTES = [
  [/^#\/signin$/, signin.render, "signin"],
  [/^#\/servers$/, servers.render, "servers"],
  [/^#\/servers\/new$/, create.render, "servers"],
  [/^#\/servers\/([^/]+)$/, server.render, "servers"],
  [/^#\/servers\/([^/]+)\/(reinstall|changeos)$/, os.render, "servers"],
  [/^#\/keypairs$/, keypairs.render, "keypairs"],
  [/^#\/images$/, images.render, "images"],
  [/^#\/jobs$/, jobs.renderList, "jobs"],
  [/^#\/jobs\/([^/]+)$/, jobs.renderJob, "jobs"],
];

const main = document.getElementById("main");
let page = null;

/** What a page gets: a signal that aborts when it is left, timers bound to it, navigation. */
function pageContext() {
  const controller = new AbortController();
  const timers = [];
  return {
    signal: controller.signal,
    every(fn, ms) {
      const t = setInterval(() => {
        if (!controller.signal.aborted) fn();
      }, ms);
      timers.push(t);
    },
    go(hash) {
      location.hash = hash;
    },
    notice,
    leave() {
      controller.abort();
      timers.forEach(clearInterval);
    },
  };
}

/** A short message read out by screen readers, gone after a few seconds. */
export function notice(text) {
  const el = document.getElementById("notice");
  el.textContent = text;
  clearTimeout(notice.timer);
  notice.timer = setTimeout(() => (el.textContent = ""), 6000);
}

function header() {
  const s = current();
  document.getElementById("nav").hidden = !s;
  document.getElementById("who").hidden = !s;
  document.getElementById("who-name").textContent = s ? `Signed in as ${s.label}` : "";
}

async function route() {
  if (page) page.leave();
  header();
  let hash = location.hash || "#/servers";
  // Nothing but the sign-in page works without a session.
  if (!current() && hash !== "#/signin") {
    sessionStorage.setItem("ecsd.console.next", hash);
    location.replace("#/signin");
    return;
  }
  if (current() && hash === "#/signin") hash = "#/servers";
  const found = ROUTES.map(([re, render, section]) => [hash.match(re), render, section]).find(([m]) => m);
  page = pageContext();
  for (const a of document.querySelectorAll("nav a")) {
    if (found && a.getAttribute("href") === `#/${found[2]}`) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
  if (!found) {
    fill(main, h("h1", { tabindex: "-1" }, "Not found"), h("p", {}, h("a", { href: "#/servers" }, "Back to the servers")));
  } else {
    fill(main);
    try {
      await found[1](main, page, ...found[0].slice(1).map(decodeURIComponent));
    } catch (e) {
      if (e.name !== "AbortError") throw e;
    }
  }
  document.title = `${main.querySelector("h1")?.textContent || "ecsd"} · ecsd console`;
  // The page's heading takes the focus, so keyboard and screen-reader users start there.
  const h1 = main.querySelector("h1");
  if (h1) {
    h1.setAttribute("tabindex", "-1");
    h1.focus();
  }
}

/** After sign-in: the page the user first asked for, or the servers. */
export function afterSignIn() {
  const next = sessionStorage.getItem("ecsd.console.next") || "#/servers";
  sessionStorage.removeItem("ecsd.console.next");
  location.hash = next === "#/signin" ? "#/servers" : next;
}

document.getElementById("sign-out").addEventListener("click", () => {
  signOut();
  location.hash = "#/signin";
});
window.addEventListener("ecsd:signed-out", (e) => {
  sessionStorage.setItem("ecsd.console.reason", e.detail.message);
  location.hash = "#/signin";
});
window.addEventListener("hashchange", route);
route();
