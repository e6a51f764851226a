// view_server.js: one server: what it is, how to reach it, and the actions on it; an action's
// job is followed on the page until it ends.

import { call, rememberJob } from "./api.js";
import { alertBox, badge, fill, h, table } from "./dom.js";
import { showJob } from "./progress.js";

/** The batch actions, each with its body; all answer `{"job_id": ...}`. */
const ACTIONS = {
  start: (id) => ["POST", "/v1/{p}/cloudservers/action", { "os-start": { servers: [{ id }] } }],
  stop: (id) => ["POST", "/v1/{p}/cloudservers/action", { "os-stop": { type: "SOFT", servers: [{ id }] } }],
  reboot: (id) => ["POST", "/v1/{p}/cloudservers/action", { reboot: { type: "SOFT", servers: [{ id }] } }],
  delete: (id) => ["POST", "/v1/{p}/cloudservers/delete", { servers: [{ id }], delete_publicip: false, delete_volume: true }],
};

function facts(pairs) {
  return h(
    "dl",
    { class: "facts" },
    pairs.filter(([, v]) => v !== undefined && v !== null && v !== "").map(([k, v]) => [h("dt", {}, k), h("dd", {}, v)])
  );
}

export async function render(main, ctx, id) {
  const title = h("h1", {}, "Server");
  const error = h("div");
  const toolbar = h("div", { class: "toolbar", role: "group", "aria-label": "Actions" });
  const details = h("div");
  const jobSlot = h("section", { "aria-label": "The running action" });
  main.append(title, error, toolbar, jobSlot, details);
  let server = null;
  let shown = "";
  let busy = false;

  async function load() {
    try {
      server = (await call("GET", `/v1/{p}/cloudservers/${encodeURIComponent(id)}`, undefined, { signal: ctx.signal })).server;
    } catch (e) {
      if (e.name === "AbortError") return;
      fill(error, alertBox(e));
      if (e.status === 404) fill(toolbar, h("a", { href: "#/servers" }, "Back to the servers"));
      return;
    }
    // Re-drawn only when something changed, so the keyboard focus stays where it was.
    const seen = JSON.stringify(server);
    if (seen === shown) return;
    shown = seen;
    title.textContent = server.name;
    renderToolbar();
    renderDetails();
  }

  function button(label, onclick, cls = "") {
    return h("button", { type: "button", class: cls, disabled: busy, onclick }, label);
  }

  function renderToolbar() {
    const active = server.status === "ACTIVE";
    const off = server.status === "SHUTOFF";
    fill(
      toolbar,
      button("Start", () => act("start", "Start"), off ? "" : "secondary"),
      button("Stop", () => act("stop", "Stop"), active ? "" : "secondary"),
      button("Reboot", () => act("reboot", "Reboot"), "secondary"),
      h("a", { class: "button secondary", href: `#/servers/${server.id}/reinstall` }, "Reinstall OS"),
      h("a", { class: "button secondary", href: `#/servers/${server.id}/changeos` }, "Change OS"),
      button(server.locked ? "Unlock" : "Lock", () => lock(!server.locked), "secondary"),
      button("Delete", () => act("delete", "Delete"), "danger")
    );
  }

  function renderDetails() {
    const s = server;
    const access = s.metadata && s.metadata["ecsd.access"];
    const addresses = Object.entries(s.addresses || {}).flatMap(([net, list]) => list.map((a) => [net, a]));
    const volumes = s["os-extended-volumes:volumes_attached"] || [];
    const metadata = Object.entries(s.metadata || {});
    fill(
      details,
      h("h2", {}, "Overview"),
      facts([
        ["ID", h("code", {}, s.id)],
        ["Status", h("span", { "data-server-status": s.status }, badge(s.status))],
        ["Task", s["OS-EXT-STS:task_state"] || "none"],
        ["Flavor", `${s.flavor?.name || s.flavor?.id} (${s.flavor?.vcpus} vCPU, ${s.flavor?.ram} MiB)`],
        ["Image", h("code", {}, s.image?.id || "")],
        ["Key pair", s.key_name || "none"],
        ["Locked", s.locked ? "yes" : "no"],
        ["Zone", s["OS-EXT-AZ:availability_zone"]],
        ["Host", s["OS-EXT-SRV-ATTR:host"]],
        ["Created", s.created],
        ["Updated", s.updated],
      ]),
      h("h2", {}, "How to reach it"),
      access
        ? [
            h("p", {}, "Its SSH port is forwarded to this host's loopback; from this host, with the key pair's private key:"),
            h("pre", {}, h("code", { "data-ssh": "" }, `${access} -i ${s.key_name || "KEY"}.pem`)),
          ]
        : h("p", {}, "This driver runs no real virtual machine, so there is nothing to SSH into; on the QEMU driver this shows the ssh command."),
      h("h2", {}, "Addresses"),
      addresses.length
        ? table(
            "Addresses",
            ["Network", "Address", "Type", "MAC"],
            addresses.map(([net, a]) =>
              h("tr", {}, h("td", {}, net), h("td", {}, a.addr), h("td", {}, a["OS-EXT-IPS:type"] || ""), h("td", {}, a["OS-EXT-IPS-MAC:mac_addr"] || ""))
            ),
            { hideCaption: true }
          )
        : h("p", {}, "No address."),
      h("h2", {}, "Volumes"),
      volumes.length
        ? table(
            "Volumes",
            ["Volume", "Device", "Boot index"],
            volumes.map((v) => h("tr", {}, h("td", {}, h("code", {}, v.id)), h("td", {}, v.device || ""), h("td", {}, v.bootIndex ?? ""))),
            { hideCaption: true }
          )
        : h("p", {}, "No volume."),
      h("h2", {}, "Metadata"),
      metadata.length ? facts(metadata.map(([k, v]) => [k, v])) : h("p", {}, "None.")
    );
  }

  async function act(kind, label) {
    if (kind === "delete" && !confirm(`Delete ${server.name}? Its disks are deleted with it.`)) return;
    await run(label, async () => {
      const [method, path, body] = ACTIONS[kind](server.id);
      const { job_id } = await call(method, path, body);
      rememberJob(job_id, `${label} ${server.name}`);
      await showJob(jobSlot, job_id, ctx, () => (kind === "delete" ? ctx.go("#/servers") : load()));
    });
  }

  async function lock(on) {
    await run(on ? "Lock" : "Unlock", async () => {
      await call("POST", `/v2.1/{p}/servers/${server.id}/action`, on ? { lock: null } : { unlock: null });
      ctx.notice(on ? `${server.name} is locked.` : `${server.name} is unlocked.`);
      await load();
    });
  }

  async function run(label, fn) {
    busy = true;
    fill(error);
    renderToolbar();
    try {
      await fn();
    } catch (e) {
      if (e.name === "AbortError") return;
      fill(error, alertBox({ code: e.code, message: `${label} was refused: ${e.message}` }));
    } finally {
      busy = false;
      if (server && !ctx.signal.aborted) renderToolbar();
    }
  }

  await load();
  ctx.every(() => {
    if (!busy) load();
  }, 3000);
}
