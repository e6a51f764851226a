// view_keypairs.js: key pairs: the list, a new one (its private key shown and offered for
// download once: the service keeps no copy), an imported public key, deletion.

import { call } from "./api.js";
import { alertBox, field, fill, h, table } from "./dom.js";

export async function render(main, ctx) {
  const list = h("div");
  const secret = h("div");
  main.append(h("h1", {}, "Key pairs"), secret, list);

  async function refresh() {
    try {
      const { keypairs } = await call("GET", "/v2.1/{p}/os-keypairs", undefined, { signal: ctx.signal });
      fill(
        list,
        keypairs.length === 0
          ? h("p", {}, "No key pairs yet.")
          : table(
              `Key pairs (${keypairs.length})`,
              ["Name", "Fingerprint", "Type", ""],
              keypairs.map(({ keypair: k }) =>
                h(
                  "tr",
                  { "data-keypair": k.name },
                  h("td", {}, k.name),
                  h("td", {}, h("code", {}, k.fingerprint)),
                  h("td", {}, k.type || "ssh"),
                  h(
                    "td",
                    {},
                    h("button", { type: "button", class: "secondary", "aria-label": `Delete ${k.name}`, onclick: () => remove(k.name) }, "Delete")
                  )
                )
              )
            )
      );
    } catch (e) {
      if (e.name !== "AbortError") fill(list, alertBox(e));
    }
  }

  async function remove(name) {
    if (!confirm(`Delete the key pair ${name}? Servers that have it keep it.`)) return;
    try {
      await call("DELETE", `/v2.1/{p}/os-keypairs/${encodeURIComponent(name)}`);
      ctx.notice(`Key pair ${name} deleted.`);
      await refresh();
    } catch (e) {
      fill(list, alertBox(e));
    }
  }

  // Create: the private key comes back once.
  const newName = h("input", { name: "name", required: true, maxlength: "64", pattern: "[A-Za-z0-9_\\-]+" });
  const createError = h("div");
  const createForm = h(
    "form",
    { class: "panel", "aria-labelledby": "create-kp" },
    h("h2", { id: "create-kp" }, "Create a key pair"),
    field("Name", newName, "Letters, digits, _ and -."),
    createError,
    h("button", { type: "submit" }, "Create")
  );
  createForm.addEventListener("submit", async (e) => {
    e.preventDefault();
    fill(createError);
    try {
      const { keypair } = await call("POST", "/v2.1/{p}/os-keypairs", { keypair: { name: newName.value.trim() } });
      showSecret(keypair);
      newName.value = "";
      await refresh();
    } catch (err) {
      fill(createError, alertBox(err));
    }
  });

  // Import: the user's own public key.
  const importName = h("input", { name: "name", required: true, maxlength: "64" });
  const publicKey = h("textarea", { name: "public_key", class: "mono", required: true, spellcheck: "false" });
  const importError = h("div");
  const importForm = h(
    "form",
    { class: "panel", "aria-labelledby": "import-kp" },
    h("h2", { id: "import-kp" }, "Import a public key"),
    field("Name", importName),
    field("Public key", publicKey, "One line, as in ~/.ssh/id_ed25519.pub."),
    importError,
    h("button", { type: "submit" }, "Import")
  );
  importForm.addEventListener("submit", async (e) => {
    e.preventDefault();
    fill(importError);
    try {
      await call("POST", "/v2.1/{p}/os-keypairs", { keypair: { name: importName.value.trim(), public_key: publicKey.value.trim() } });
      ctx.notice(`Key pair ${importName.value.trim()} imported.`);
      importName.value = "";
      publicKey.value = "";
      await refresh();
    } catch (err) {
      fill(importError, alertBox(err));
    }
  });

  function showSecret(keypair) {
    const url = URL.createObjectURL(new Blob([keypair.private_key], { type: "application/x-pem-file" }));
    fill(
      secret,
      h(
        "section",
        { class: "secret", "aria-labelledby": "secret-title" },
        h("h2", { id: "secret-title" }, `The private key of ${keypair.name}`),
        h("p", {}, "This is the only time it is shown: download it now. The service keeps no copy."),
        h("a", { class: "button", href: url, download: `${keypair.name}.pem` }, `Download ${keypair.name}.pem`),
        " ",
        h("button", { type: "button", class: "secondary", onclick: () => { URL.revokeObjectURL(url); fill(secret); } }, "Done, hide it"),
        field("Private key", h("textarea", { class: "mono", readonly: true, rows: "8", value: keypair.private_key }))
      )
    );
    secret.querySelector("h2").setAttribute("tabindex", "-1");
    secret.querySelector("h2").focus();
  }

  main.append(h("div", { class: "columns" }, createForm, importForm));
  await refresh();
}
