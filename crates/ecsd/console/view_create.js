// view_create.js: creating servers: an image, a flavor, a key pair or a password, the network;
// the job is followed on its own page.

import { call, rememberJob } from "./api.js";
import { alertBox, field, fill, h } from "./dom.js";

/** Text to base64 as the API wants user data, UTF-8 safe. */
export function base64(text) {
  return btoa(String.fromCharCode(...new TextEncoder().encode(text)));
}

export async function render(main, ctx) {
  main.append(h("h1", {}, "Create a server"));
  const error = h("div");
  let images, flavors, keypairs, vpcs, subnets;
  try {
    [images, flavors, keypairs, vpcs, subnets] = await Promise.all([
      call("GET", "/v2/cloudimages?limit=200", undefined, { signal: ctx.signal }),
      call("GET", "/v1/{p}/cloudservers/flavors", undefined, { signal: ctx.signal }),
      call("GET", "/v2.1/{p}/os-keypairs", undefined, { signal: ctx.signal }),
      call("GET", "/v1/{p}/vpcs", undefined, { signal: ctx.signal }),
      call("GET", "/v1/{p}/subnets", undefined, { signal: ctx.signal }),
    ]);
  } catch (e) {
    if (e.name === "AbortError") return;
    main.append(alertBox(e));
    return;
  }
  const name = h("input", { name: "name", required: true, maxlength: "64", value: "server-1" });
  const image = h(
    "select",
    { name: "image", required: true },
    images.images.map((i) => h("option", { value: i.id }, i.name))
  );
  const flavor = h(
    "select",
    { name: "flavor", required: true },
    flavors.flavors.map((f) => h("option", { value: f.id }, `${f.name} (${f.vcpus} vCPU, ${f.ram} MiB)`))
  );
  const key = h(
    "select",
    { name: "key" },
    h("option", { value: "" }, "No key pair: set a password"),
    keypairs.keypairs.map(({ keypair }) => h("option", { value: keypair.name }, keypair.name))
  );
  const password = h("input", { name: "password", type: "password", autocomplete: "new-password" });
  const subnet = h(
    "select",
    { name: "subnet", required: true },
    subnets.subnets.map((s) => h("option", { value: s.id, "data-vpc": s.vpc_id }, `${s.name} (${s.cidr})`))
  );
  const count = h("input", { name: "count", type: "number", min: "1", max: "100", value: "1", required: true });
  const userData = h("textarea", { name: "user_data", class: "mono", spellcheck: "false" });
  if (keypairs.keypairs.length) key.value = keypairs.keypairs[0].keypair.name;

  const form = h(
    "form",
    { class: "panel" },
    field("Name", name),
    field("Image", image),
    field("Flavor", flavor),
    field("Key pair", key, "The key pair's public key is put on the server."),
    field("Password (without a key pair)", password, "8 to 26 characters, three of: upper case, lower case, digits, specials."),
    field("Subnet", subnet, `In VPC ${vpcs.vpcs[0]?.name || ""}.`),
    field("Count", count),
    field("User data (optional)", userData, "A script or cloud-config for Cloud-Init images."),
    error,
    h("button", { type: "submit" }, "Create")
  );
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    fill(error);
    const chosen = subnet.selectedOptions[0];
    const server = {
      name: name.value.trim(),
      imageRef: image.value,
      flavorRef: flavor.value,
      vpcid: chosen.dataset.vpc,
      nics: [{ subnet_id: chosen.value }],
      root_volume: { volumetype: "SSD" },
      count: Number(count.value),
    };
    if (key.value) server.key_name = key.value;
    else if (password.value) server.adminPass = password.value;
    if (userData.value) server.user_data = base64(userData.value);
    const button = form.querySelector("button");
    button.disabled = true;
    try {
      const answer = await call("POST", "/v1/{p}/cloudservers", { server });
      rememberJob(answer.job_id, `Create ${server.name}`);
      ctx.go(`#/jobs/${answer.job_id}`);
    } catch (err) {
      fill(error, alertBox({ code: err.code, message: `The create was refused: ${err.message}` }));
      button.disabled = false;
    }
  });
  main.append(form);
}
