// view_images.js: the images a server can be created or reinstalled from.

import { call } from "./api.js";
import { alertBox, h, table } from "./dom.js";

export async function render(main, ctx) {
  main.append(h("h1", {}, "Images"));
  let images;
  try {
    images = (await call("GET", "/v2/cloudimages?limit=200", undefined, { signal: ctx.signal })).images;
  } catch (e) {
    if (e.name !== "AbortError") main.append(alertBox(e));
    return;
  }
  main.append(
    table(
      `Images (${images.length})`,
      ["Name", "OS", "Cloud-Init", "Minimum disk", "Status", "ID"],
      images.map((i) =>
        h(
          "tr",
          {},
          h("td", {}, i.name),
          h("td", {}, i.__os_version || i.__platform || ""),
          h("td", {}, i.__is_config_init === "true" ? "yes" : "no"),
          h("td", {}, `${i.min_disk} GB`),
          h("td", {}, i.status),
          h("td", {}, h("code", {}, i.id))
        )
      )
    )
  );
}
