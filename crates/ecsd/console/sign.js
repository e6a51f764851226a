// sign.js: SDK-HMAC-SHA256, the request signature of the official Huawei Cloud SDKs, computed
// with the browser's Web Crypto so the secret key never leaves the page.
//
// Web Crypto exists only in a secure context (HTTPS, or http://localhost and 127.0.0.1); the
// sign-in page says so when it is missing and offers the password sign-in instead.

const encoder = new TextEncoder();

function hex(buffer) {
  return Array.from(new Uint8Array(buffer), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Whether this page can sign at all. */
export function canSign() {
  return Boolean(globalThis.crypto && globalThis.crypto.subtle);
}

export async function sha256Hex(text) {
  return hex(await crypto.subtle.digest("SHA-256", encoder.encode(text)));
}

async function hmacHex(key, text) {
  const k = await crypto.subtle.importKey("raw", encoder.encode(key), { name: "HMAC", hash: "SHA-256" }, false, [
    "sign",
  ]);
  return hex(await crypto.subtle.sign("HMAC", k, encoder.encode(text)));
}

/** Python's `quote(s, safe="~")`: all but `A-Z a-z 0-9 - _ . ~` escaped, as the SDKs sign. */
function quote(text) {
  return encodeURIComponent(text).replace(/[!'()*]/g, (c) => "%" + c.charCodeAt(0).toString(16).toUpperCase());
}

/** Decoded, split on `/`, each segment re-escaped, with the trailing `/` the SDKs add. */
function canonicalUri(path) {
  const uri = decodeURIComponent(path).split("/").map(quote).join("/");
  return uri.endsWith("/") ? uri : uri + "/";
}

/** Byte order of two strings' UTF-8 forms, the order the server and the Python SDK sort by. */
function compareUtf8(a, b) {
  const x = encoder.encode(a);
  const y = encoder.encode(b);
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    if (x[i] !== y[i]) return x[i] - y[i];
  }
  return x.length - y.length;
}

/** Pairs decoded (`+` as a space), sorted by key then value, re-escaped. */
function canonicalQuery(query) {
  const decode = (s) => decodeURIComponent(s.replace(/\+/g, " "));
  const pairs = (query || "")
    .split("&")
    .filter((p) => p !== "")
    .map((p) => {
      const i = p.indexOf("=");
      return i < 0 ? [decode(p), ""] : [decode(p.slice(0, i)), decode(p.slice(i + 1))];
    });
  pairs.sort((a, b) => compareUtf8(a[0], b[0]) || compareUtf8(a[1], b[1]));
  return pairs.map(([k, v]) => `${quote(k)}=${quote(v)}`).join("&");
}

/** `YYYYMMDDTHHMMSSZ`, the `X-Sdk-Date` format. */
export function sdkDate(date = new Date()) {
  return date.toISOString().replace(/[-:]/g, "").replace(/\.\d+/, "");
}

/**
 * The `Authorization` header for a request. `headers` maps lower-case names to values and must
 * already hold `host` and `x-sdk-date`; every name without `_` is signed, as the SDKs do.
 */
export async function authorization({ method, path, query, headers, body }, ak, sk) {
  const names = Object.keys(headers)
    .map((n) => n.toLowerCase())
    .filter((n) => !n.includes("_"))
    .sort();
  const lower = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
  const block = names.map((n) => `${n}:${String(lower[n]).trim()}\n`).join("");
  const canonical = [
    method.toUpperCase(),
    canonicalUri(path),
    canonicalQuery(query),
    block,
    names.join(";"),
    await sha256Hex(body || ""),
  ].join("\n");
  const toSign = `SDK-HMAC-SHA256\n${lower["x-sdk-date"] || ""}\n${await sha256Hex(canonical)}`;
  const signature = await hmacHex(sk, toSign);
  return `SDK-HMAC-SHA256 Access=${ak}, SignedHeaders=${names.join(";")}, Signature=${signature}`;
}
