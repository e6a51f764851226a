// dom.js: building the page from elements, never from HTML strings, so nothing the API
// returns (a server's name, an error message) can become markup.

/**
 * `h("a", {href: "#/x", class: "btn"}, "text", child)`: an element with attributes and children.
 * Attributes starting with `on` are listeners; `false`, `null` and `undefined` ones are left out.
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === false || value === null || value === undefined) continue;
    if (name.startsWith("on") && typeof value === "function") el.addEventListener(name.slice(2), value);
    else if (name === "value") el.value = value;
    else el.setAttribute(name, value === true ? "" : String(value));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Replaces an element's children. */
export function fill(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

/** A labelled form field: the label, the control and, if given, a hint tied to it. */
export function field(label, control, hint) {
  const id = control.id || (control.id = "f-" + Math.random().toString(36).slice(2, 9));
  const parts = [h("label", { for: id }, label), control];
  if (hint) {
    const hid = id + "-hint";
    control.setAttribute("aria-describedby", hid);
    parts.push(h("p", { class: "hint", id: hid }, hint));
  }
  return h("div", { class: "field" }, parts);
}

/** A table that scrolls sideways on a narrow screen, reachable by the keyboard when it does. */
export function table(caption, headers, rows, { hideCaption = false } = {}) {
  return h(
    "div",
    { class: "table-wrap", role: "region", "aria-label": caption, tabindex: "0" },
    h(
      "table",
      {},
      h("caption", { class: hideCaption ? "sr-only" : null }, caption),
      h("thead", {}, h("tr", {}, headers.map((t) => h("th", { scope: "col" }, t)))),
      h("tbody", {}, rows)
    )
  );
}

/** A status word in a badge whose colour follows it; the word itself carries the meaning. */
export function badge(status) {
  const s = String(status || "").toUpperCase();
  const kind = ["ACTIVE", "SUCCESS"].includes(s)
    ? "ok"
    : ["ERROR", "FAIL", "FAILED"].includes(s)
      ? "bad"
      : ["SHUTOFF", "STOPPED", "DELETED", "UNDONE"].includes(s)
        ? "off"
        : "busy";
  return h("span", { class: `badge ${kind}` }, s || "—");
}

/** An error box read out at once by screen readers. */
export function alertBox(error) {
  const code = error && error.code ? h("code", {}, error.code) : null;
  return h("div", { class: "alert", role: "alert" }, code, code ? " " : null, error.message || String(error));
}

/** "stop_server" → "Stop server". */
export function stepLabel(name) {
  const text = String(name).replace(/_/g, " ");
  return text.charAt(0).toUpperCase() + text.slice(1);
}
