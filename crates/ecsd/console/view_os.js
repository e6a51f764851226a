// view_os.js: reinstalling a server's OS (the image it has) or changing it (another image),
// with a key pair or a password. The image decides the API: `/v2` for one with Cloud-Init,
// which also takes user data, `/v1` for one without.

import { call, current, rememberJob } from "./api.js";
import { alertBox, field, fill, h } from "./dom.js";
import { base64 } from "./view_create.js";

export async function render(main, ctx, id, kind) {
  const change = kind === "changeos";
  main.append(h("h1", {}, change ? "Change the OS" : "Reinstall the OS"));
  let server, images, keypairs;
  try {
    [server, images, keypairs] = await Promise.all([
      call("GET", `/v1/{p}/cloudservers/${encodeURIComponent(id)}`, undefined, { signal: ctx.signal }).then((r) => r.server),
      call("GET", "/v2/cloudimages?limit=200", undefined, { signal: ctx.signal }).then((r) => r.images),
      call("GET", "/v2.1/{p}/os-keypairs", undefined, { signal: ctx.signal }).then((r) => r.keypairs),
    ]);
  } catch (e) {
    if (e.name === "AbortError") return;
    main.append(alertBox(e));
    return;
  }
  const cloudInit = (imageId) => images.find((i) => i.id === imageId)?.__is_config_init === "true";
  main.append(
    h("p", {}, "Server ", h("a", { href: `#/servers/${server.id}` }, server.name), ", status ", server.status, ".")
  );

  const image = change
    ? h(
        "select",
        { name: "image", required: true },
        images.filter((i) => i.id !== server.image?.id).map((i) => h("option", { value: i.id }, i.name))
      )
    : null;
  const key = h(
    "select",
    { name: "key" },
    h("option", { value: "" }, "No key pair: set a password"),
    keypairs.map(({ keypair }) => h("option", { value: keypair.name, selected: keypair.name === server.key_name }, keypair.name))
  );
  const password = h("input", { name: "password", type: "password", autocomplete: "new-password" });
  const stopFirst = h("input", { type: "checkbox", name: "stop", id: "stop-first", checked: true });
  const userData = h("textarea", { name: "user_data", class: "mono", spellcheck: "false" });
  const userDataHint = h("p", { class: "hint", id: "ud-hint" });
  userData.setAttribute("aria-describedby", "ud-hint");
  const error = h("div");
  const target = () => (change ? image.value : server.image?.id);
  const syncUserData = () => {
    const ok = cloudInit(target());
    userData.disabled = !ok;
    userDataHint.textContent = ok
      ? "Run by Cloud-Init at the first boot."
      : "This image has no Cloud-Init: user data cannot be given.";
  };
  if (image) image.addEventListener("change", syncUserData);
  syncUserData();

  const form = h(
    "form",
    { class: "panel" },
    image ? field("New image", image) : null,
    field("Key pair", key, "Put on the new system disk; choose none to set a password instead."),
    field("Password (without a key pair)", password),
    h("div", { class: "check" }, stopFirst, h("label", { for: "stop-first" }, "Stop the server first if it is running")),
    h("div", { class: "field" }, h("label", { for: "user-data" }, "User data (optional)"), userData, userDataHint),
    error,
    h("button", { type: "submit" }, change ? "Change the OS" : "Reinstall")
  );
  userData.id = "user-data";
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    fill(error);
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    try {
      const option = {};
      if (key.value) {
        // The API wants the key pair's owner with it.
        const detail = await call("GET", `/v2.1/{p}/os-keypairs/${encodeURIComponent(key.value)}`);
        option.keyname = key.value;
        option.userid = detail.keypair.user_id || current().userId;
      } else if (password.value) {
        option.adminpass = password.value;
      }
      if (stopFirst.checked) option.mode = "withStopServer";
      if (change) option.imageid = image.value;
      const v2 = cloudInit(target());
      if (v2 && userData.value) option.metadata = { user_data: base64(userData.value) };
      const action = change ? "changeos" : "reinstallos";
      const body = change ? { "os-change": option } : { "os-reinstall": option };
      const answer = await call("POST", `/${v2 ? "v2" : "v1"}/{p}/cloudservers/${server.id}/${action}`, body);
      rememberJob(answer.job_id, `${change ? "Change the OS of" : "Reinstall"} ${server.name}`);
      ctx.go(`#/jobs/${answer.job_id}`);
    } catch (err) {
      if (err.name === "AbortError") return;
      fill(error, alertBox({ code: err.code, message: `${change ? "The change" : "The reinstall"} was refused: ${err.message}` }));
      button.disabled = false;
    }
  });
  main.append(form);
}
