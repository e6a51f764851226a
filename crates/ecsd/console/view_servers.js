// view_servers.js: the project's servers, their status kept live while the page is open.

import { call } from "./api.js";
import { alertBox, badge, fill, h, table } from "./dom.js";

/** Every address of a server, as one line. */
export function addressList(server) {
  return Object.values(server.addresses || {})
    .flat()
    .map((a) => a.addr)
    .join(", ");
}

export async function render(main, ctx) {
  const body = h("div");
  const updated = h("p", { class: "hint", "aria-live": "off" });
  main.append(
    h("h1", {}, "Servers"),
    h(
      "div",
      { class: "toolbar" },
      h("a", { class: "button", href: "#/servers/new" }, "Create a server"),
      h("button", { type: "button", class: "secondary", onclick: () => refresh() }, "Refresh")
    ),
    body,
    updated
  );

  async function refresh() {
    try {
      const list = await call("GET", "/v1/{p}/cloudservers/detail?limit=1000", undefined, { signal: ctx.signal });
      const servers = list.servers || [];
      if (servers.length === 0) {
        fill(body, h("p", {}, "No servers yet. ", h("a", { href: "#/servers/new" }, "Create one"), "."));
      } else {
        fill(
          body,
          table(
            `Servers (${list.count ?? servers.length})`,
            ["Name", "Status", "Task", "Flavor", "Addresses", "Key pair", "Created"],
            servers.map((s) =>
              h(
                "tr",
                { "data-server": s.id },
                h("td", {}, h("a", { href: `#/servers/${s.id}` }, s.name)),
                h("td", {}, badge(s.status), s.locked ? " (locked)" : ""),
                h("td", {}, s["OS-EXT-STS:task_state"] || "—"),
                h("td", {}, s.flavor?.name || s.flavor?.id || ""),
                h("td", {}, addressList(s) || "—"),
                h("td", {}, s.key_name || "—"),
                h("td", {}, s.created || "")
              )
            )
          )
        );
      }
      updated.textContent = `Updated ${new Date().toLocaleTimeString()}; refreshed every 2 seconds.`;
    } catch (e) {
      if (e.name === "AbortError") return;
      fill(body, alertBox(e));
    }
  }
  await refresh();
  ctx.every(refresh, 2000);
}
