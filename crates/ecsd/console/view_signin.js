// view_signin.js: the sign-in page: an account's access key and secret key, or an IAM user's
// password (exchanged for a token). Either way the secret stays in this tab.

import { signInWithKeys, signInWithPassword } from "./api.js";
import { canSign } from "./sign.js";
import { alertBox, field, h } from "./dom.js";
import { afterSignIn } from "./app.js";

export async function render(main) {
  const reason = sessionStorage.getItem("ecsd.console.reason");
  sessionStorage.removeItem("ecsd.console.reason");

  const ak = h("input", { name: "ak", autocomplete: "username", required: true, spellcheck: "false" });
  const sk = h("input", { name: "sk", type: "password", autocomplete: "current-password", required: true });
  const project = h("input", { name: "project", pattern: "[0-9a-f]{32}", spellcheck: "false" });
  const keysError = h("div");
  const keysForm = h(
    "form",
    { class: "panel", "aria-labelledby": "keys-title" },
    h("h2", { id: "keys-title" }, "With an access key"),
    field("Access key (AK)", ak),
    field("Secret key (SK)", sk, "Used in this tab to sign each request; never sent."),
    field("Project ID (optional)", project, "32 hexadecimal characters; found from the keys when left empty."),
    keysError,
    h("button", { type: "submit", disabled: !canSign() }, "Sign in with the access key"),
    canSign()
      ? null
      : h("p", { class: "hint" }, "Signing needs a secure page: open the console over HTTPS or on localhost, or use a password.")
  );
  keysForm.addEventListener("submit", async (e) => {
    e.preventDefault();
    await attempt(keysForm, keysError, () => signInWithKeys(ak.value.trim(), sk.value, project.value.trim()));
  });

  const user = h("input", { name: "user", autocomplete: "username", required: true, spellcheck: "false" });
  const password = h("input", { name: "password", type: "password", autocomplete: "current-password", required: true });
  const account = h("input", { name: "account", spellcheck: "false" });
  const pwError = h("div");
  const pwForm = h(
    "form",
    { class: "panel", "aria-labelledby": "pw-title" },
    h("h2", { id: "pw-title" }, "With a password"),
    field("IAM user name", user),
    field("Password", password),
    field("Account name (optional)", account, "The account the user belongs to, if several have a user of this name."),
    pwError,
    h("button", { type: "submit" }, "Sign in with the password")
  );
  pwForm.addEventListener("submit", async (e) => {
    e.preventDefault();
    await attempt(pwForm, pwError, () => signInWithPassword(user.value.trim(), password.value, account.value.trim()));
  });

  main.append(
    h("h1", {}, "Sign in"),
    reason ? alertBox({ message: `You were signed out: ${reason}` }) : null,
    h("div", { class: "columns" }, keysForm, pwForm)
  );
}

async function attempt(form, errorSlot, signIn) {
  const button = form.querySelector("button[type=submit]");
  button.disabled = true;
  errorSlot.replaceChildren();
  try {
    await signIn();
    afterSignIn();
  } catch (e) {
    errorSlot.replaceChildren(alertBox(e));
    button.disabled = false;
  }
}
