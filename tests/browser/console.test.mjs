// The web console in real headless Chromium (Debian's), driven by Playwright: sign-in with keys
// and with a password, a wrong secret, pages closed to a visitor who has not signed in, a server
// created and reinstalled with a new key pair while the progress is watched step by step, a
// refused action's message, the keyboard alone, a phone-sized screen, and axe-core's
// accessibility check on every page. Screenshots go where the log's first line says.

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { createRequire } from "node:module";
import { execFileSync } from "node:child_process";
import { chromium } from "playwright-core";
import { AK, PASSWORD, PROJECT, SK, USER, startEcsd } from "./ecsd.mjs";
import { authorization, sdkDate } from "../../crates/ecsd/console/sign.js";

const require = createRequire(import.meta.url);
const AXE = require.resolve("axe-core/axe.min.js");
const CHROMIUM = process.env.ECSD_CHROMIUM || "/usr/bin/chromium";
// Without the background-networking flags Chromium keeps trying hosts this machine cannot reach.
const FLAGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];
const SHOTS = process.env.ECSD_SCREENSHOTS || fs.mkdtempSync(path.join(os.tmpdir(), "ecsd-console-shots-"));
fs.mkdirSync(SHOTS, { recursive: true });
console.log(`screenshots: ${SHOTS}`);

let svc;
let browser;

before(async () => {
  // Each simulated driver action takes 250 ms, so the steps can be watched going by.
  svc = await startEcsd({ stepMs: 250 });
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: FLAGS });
});

after(async () => {
  await browser?.close();
  await svc?.stop();
});

/** A fresh tab (its own session storage), failing the test on any script error. */
async function newPage(viewport = { width: 1280, height: 800 }) {
  // axe-core is injected as a script: the console's policy forbids that, rightly, so the test's
  // own context bypasses it.
  const context = await browser.newContext({ viewport, bypassCSP: true, acceptDownloads: true });
  const page = await context.newPage();
  page.errors = [];
  page.on("pageerror", (e) => page.errors.push(e.message));
  return page;
}

async function shot(page, name) {
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
}

async function open(page, hash, heading) {
  await page.goto(`${svc.endpoint}/console/${hash}`);
  await page.getByRole("heading", { level: 1, name: heading }).waitFor();
}

async function signInWithKeys(page, sk = SK) {
  await open(page, "#/signin", "Sign in");
  await page.getByLabel("Access key (AK)").fill(AK);
  await page.getByLabel("Secret key (SK)").fill(sk);
  await page.getByRole("button", { name: "Sign in with the access key" }).click();
}

/** axe-core on the page as it is: no serious or critical violation. */
async function assertAccessible(page, name) {
  await page.addScriptTag({ path: AXE });
  const result = await page.evaluate(async () => {
    // eslint-disable-next-line no-undef
    const r = await axe.run(document, { resultTypes: ["violations"] });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => n.target.join(" ")) }));
  });
  const bad = result.filter((v) => v.impact === "serious" || v.impact === "critical");
  assert.deepEqual(bad, [], `${name}: ${JSON.stringify(bad, null, 2)}`);
  return result;
}

/** Follows a job page until the job ends; returns every "Now: ..." line seen on the way. */
async function watchJob(page, name) {
  await page.waitForURL(/#\/jobs\/[0-9a-f]+$/);
  const seen = new Set();
  const until = Date.now() + 30_000;
  for (;;) {
    const status = await page.locator("[data-job-status]").first().getAttribute("data-job-status").catch(() => null);
    const line = await page.locator("p.current[aria-live]").textContent().catch(() => "");
    if (line) seen.add(line);
    if (status === "RUNNING" && seen.size === 1) await shot(page, `${name}-running`);
    if (status === "SUCCESS" || status === "FAIL") {
      await shot(page, `${name}-${status.toLowerCase()}`);
      return { status, seen: [...seen] };
    }
    assert.ok(Date.now() < until, `the job of ${name} did not end: ${[...seen]}`);
    await page.waitForTimeout(50);
  }
}

/** A call to the API from outside the browser, signed by the console's own signer. */
async function apiRaw(method, target, body) {
  const url = new URL(svc.endpoint + target.replaceAll("{p}", PROJECT));
  const text = body === undefined ? "" : JSON.stringify(body);
  const headers = { "content-type": "application/json", "x-sdk-date": sdkDate(), host: url.host };
  const query = url.search.replace(/^\?/, "");
  headers.authorization = await authorization({ method, path: url.pathname, query, headers, body: text }, AK, SK);
  delete headers.host;
  return fetch(url, { method, headers, body: text || undefined });
}

/** The same, expecting success: the JSON answer. */
async function api(method, target, body) {
  const resp = await apiRaw(method, target, body);
  assert.ok(resp.ok, `${method} ${target}: ${resp.status} ${await resp.clone().text()}`);
  return resp.json();
}

async function waitJob(jobId) {
  for (let i = 0; i < 300; i++) {
    const job = await api("GET", `/v1/{p}/jobs/${jobId}`);
    if (job.status === "SUCCESS" || job.status === "FAIL") return job;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.fail(`job ${jobId} did not end`);
}

describe("the console", () => {
  test("serves its page and files from the binary, with a strict policy", async () => {
    const resp = await fetch(`${svc.endpoint}/console/`);
    assert.equal(resp.status, 200);
    assert.match(resp.headers.get("content-security-policy"), /script-src 'self'/);
    assert.match(await resp.text(), /<script type="module" src="\.\/app\.js">/);
    const redirect = await fetch(`${svc.endpoint}/console`, { redirect: "manual" });
    assert.equal(redirect.status, 308);
    assert.equal((await fetch(`${svc.endpoint}/console/nothing.js`)).status, 404);
  });

  test("shows nothing to a visitor who has not signed in", async () => {
    const page = await newPage();
    for (const hash of ["#/servers", "#/keypairs", "#/images", "#/jobs", "#/servers/new"]) {
      await page.goto(`${svc.endpoint}/console/${hash}`);
      await page.getByRole("heading", { level: 1, name: "Sign in" }).waitFor();
      assert.equal(await page.getByRole("navigation", { name: "Main" }).count(), 0, hash);
    }
    // The API behind it refuses an unsigned call.
    const status = await page.evaluate(async () => (await fetch("/v1/x/cloudservers/detail")).status);
    assert.equal(status, 401);
    await assertAccessible(page, "sign-in");
    await shot(page, "signin");
    await page.context().close();
  });

  test("refuses a wrong secret key with a clear message", async () => {
    const page = await newPage();
    await signInWithKeys(page, SK + "-wrong");
    const alert = page.getByRole("alert");
    await alert.waitFor();
    assert.match(await alert.textContent(), /These keys were refused: check the access key and the secret key/);
    assert.match(await alert.textContent(), /APIGW\.0301/);
    assert.match(page.url(), /#\/signin$/);
    await shot(page, "signin-wrong-secret");
    // A wrong password, the same.
    await page.getByLabel("IAM user name").fill(USER);
    await page.getByLabel("Password", { exact: true }).fill("not-the-password");
    await page.getByRole("button", { name: "Sign in with the password" }).click();
    await page.getByText("The user name or password is wrong.").waitFor();
    assert.deepEqual(page.errors, []);
    await page.context().close();
  });

  test("creates a server, reinstalls it with a new key pair, and shows each step", async () => {
    const page = await newPage();
    await signInWithKeys(page);
    await page.getByRole("heading", { level: 1, name: "Servers" }).waitFor();
    await page.getByText("No servers yet.").waitFor();
    await assertAccessible(page, "servers (empty)");

    // Two key pairs; the private key of each is shown once, and downloads as NAME.pem.
    for (const name of ["key-a", "key-b"]) {
      await page.getByRole("link", { name: "Key pairs" }).click();
      await page.getByRole("heading", { level: 1, name: "Key pairs" }).waitFor();
      await page.locator("form[aria-labelledby=create-kp]").getByLabel("Name").fill(name);
      await page.locator("form[aria-labelledby=create-kp]").getByRole("button", { name: "Create" }).click();
      await page.getByRole("heading", { name: `The private key of ${name}` }).waitFor();
      const [download] = await Promise.all([
        page.waitForEvent("download"),
        page.getByRole("link", { name: `Download ${name}.pem` }).click(),
      ]);
      assert.equal(download.suggestedFilename(), `${name}.pem`);
      const pem = fs.readFileSync(await download.path(), "utf8");
      assert.match(pem, /^-----BEGIN (OPENSSH|RSA) PRIVATE KEY-----/);
      await page.locator(`tr[data-keypair="${name}"]`).waitFor();
    }
    await assertAccessible(page, "key pairs");
    await shot(page, "keypairs");

    // A server with key A.
    await page.getByRole("link", { name: "Servers" }).click();
    await page.getByRole("link", { name: "Create a server" }).click();
    await page.getByRole("heading", { level: 1, name: "Create a server" }).waitFor();
    await page.getByLabel("Name", { exact: true }).fill("web-1");
    await page.getByLabel("Key pair", { exact: true }).selectOption("key-a");
    await assertAccessible(page, "create");
    await shot(page, "create");
    await page.getByRole("button", { name: "Create" }).click();
    const created = await watchJob(page, "create");
    assert.equal(created.status, "SUCCESS");
    assert.ok(created.seen.some((l) => l.startsWith("Now: ")), `no step was seen running: ${created.seen}`);
    await assertAccessible(page, "job");
    const subJob = page.locator("section[aria-label^='Sub-job']");
    assert.equal(await subJob.count(), 1);
    const steps = await subJob.locator("li[data-step]").evaluateAll((els) => els.map((e) => [e.dataset.step, e.dataset.status]));
    assert.ok(steps.length >= 2, JSON.stringify(steps));
    assert.ok(steps.every(([, s]) => s === "SUCCESS"), JSON.stringify(steps));
    await page.getByRole("status").filter({ hasText: "finished: SUCCESS" }).waitFor();

    // The server, ACTIVE with key A, live in the list.
    await subJob.getByRole("link").first().click();
    await page.getByRole("heading", { level: 1, name: "web-1" }).waitFor();
    await page.locator("[data-server-status=ACTIVE]").waitFor();
    assert.equal(await page.locator("dt:text('Key pair') + dd").textContent(), "key-a");
    await assertAccessible(page, "server");
    await shot(page, "server");
    const serverUrl = page.url();

    // Reinstall with key B, stopping it first: the steps go by one after the other.
    await page.getByRole("link", { name: "Reinstall OS" }).click();
    await page.getByRole("heading", { level: 1, name: "Reinstall the OS" }).waitFor();
    await page.getByLabel("Key pair", { exact: true }).selectOption("key-b");
    assert.ok(await page.getByLabel("Stop the server first if it is running").isChecked());
    await assertAccessible(page, "reinstall");
    await shot(page, "reinstall");
    await page.getByRole("button", { name: "Reinstall" }).click();
    const reinstalled = await watchJob(page, "reinstall");
    assert.equal(reinstalled.status, "SUCCESS");
    const order = await page.locator("ol[aria-label='Steps of the job'] li[data-step]").evaluateAll((els) => els.map((e) => e.dataset.step));
    assert.ok(order.includes("stop_server"), JSON.stringify(order));
    assert.ok(order.length >= 4, JSON.stringify(order));
    // Each step ran once: the stream's replay of the log is not counted twice.
    assert.equal(await page.locator("ol.steps li", { hasText: "attempts" }).count(), 0);
    // More than one step was seen running as it happened, in the saga's order.
    const running = reinstalled.seen.filter((l) => l.startsWith("Now: "));
    assert.ok(running.length >= 2, `steps seen live: ${reinstalled.seen}`);
    const labels = order.map((s) => "Now: " + s.charAt(0).toUpperCase() + s.slice(1).replace(/_/g, " "));
    const positions = running.map((l) => labels.indexOf(l));
    assert.ok(positions.every((p) => p >= 0), `${running} not among ${labels}`);
    assert.deepEqual(positions, [...positions].sort((a, b) => a - b), `steps seen out of order: ${running}`);

    await page.goto(serverUrl);
    await page.locator("[data-server-status=ACTIVE]").waitFor();
    await page.locator("dt:text('Key pair') + dd:text('key-b')").waitFor();

    // Change the OS to another image, with a password this time.
    await page.getByRole("link", { name: "Change OS" }).click();
    await page.getByRole("heading", { level: 1, name: "Change the OS" }).waitFor();
    const image = page.getByLabel("New image");
    await image.waitFor();
    const choices = await image.locator("option").evaluateAll((os) => os.map((o) => [o.value, o.textContent]));
    const plain = choices.find(([, name]) => /no Cloud-Init/i.test(name)) || choices[0];
    await image.selectOption(plain[0]);
    await page.getByLabel("Key pair", { exact: true }).selectOption("");
    await page.getByLabel("Password (without a key pair)").fill("Changed-Passw0rd!");
    await assertAccessible(page, "change OS");
    await page.getByRole("button", { name: "Change the OS" }).click();
    const changed = await watchJob(page, "changeos");
    assert.equal(changed.status, "SUCCESS");
    await page.goto(serverUrl);
    await page.locator("[data-server-status=ACTIVE]").waitFor();
    await page.locator(`dd:has(code:text('${plain[0]}'))`).waitFor();

    // A refused action: a locked server cannot be stopped; the page says why.
    await page.getByRole("button", { name: "Lock" }).click();
    await page.getByRole("button", { name: "Unlock" }).waitFor();
    await page.getByRole("button", { name: "Stop" }).click();
    const alert = page.getByRole("alert");
    await alert.waitFor();
    const text = await alert.textContent();
    assert.match(text, /Stop was refused: /);
    assert.match(text, /Ecs\.\d{4}/);
    await shot(page, "refused-stop");
    await page.getByRole("button", { name: "Unlock" }).click();
    await page.getByRole("button", { name: "Lock" }).waitFor();

    // The jobs page lists both jobs of this tab, finished.
    await page.getByRole("link", { name: "Jobs" }).click();
    await page.getByRole("heading", { level: 1, name: "Jobs" }).waitFor();
    await page.getByRole("cell", { name: "Reinstall web-1" }).waitFor();
    assert.equal(await page.locator("tbody tr").count(), 3);
    await assertAccessible(page, "jobs");
    await page.getByRole("link", { name: "Images" }).click();
    await page.getByRole("heading", { level: 1, name: "Images" }).waitFor();
    await assertAccessible(page, "images");
    assert.deepEqual(page.errors, []);
    await page.context().close();
  });

  test("signs in with a password, and signs out", async () => {
    const page = await newPage();
    await open(page, "#/signin", "Sign in");
    await page.getByLabel("IAM user name").fill(USER);
    await page.getByLabel("Password", { exact: true }).fill(PASSWORD);
    await page.getByRole("button", { name: "Sign in with the password" }).click();
    await page.getByRole("heading", { level: 1, name: "Servers" }).waitFor();
    await page.getByText(`Signed in as ${USER}`).waitFor();
    // The same project: the server of the other test is there, through the token.
    await page.getByRole("link", { name: "web-1" }).waitFor();
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.getByRole("heading", { level: 1, name: "Sign in" }).waitFor();
    await page.goto(`${svc.endpoint}/console/#/servers`);
    await page.getByRole("heading", { level: 1, name: "Sign in" }).waitFor();
    assert.deepEqual(page.errors, []);
    await page.context().close();
  });

  test("works with the keyboard alone", async () => {
    const page = await newPage();
    await open(page, "#/signin", "Sign in");
    // The page's heading holds the focus; the skip link and the menu come before it.
    assert.equal(await page.evaluate(() => document.activeElement.textContent), "Sign in");
    const back = [];
    for (let i = 0; i < 2; i++) {
      await page.keyboard.press("Shift+Tab");
      back.push(await page.evaluate(() => document.activeElement.textContent.trim()));
    }
    assert.deepEqual(back, ["ecsd console", "Skip to content"]);
    const focused = () => page.evaluate(() => document.activeElement.getAttribute("name") || document.activeElement.textContent);
    async function tabTo(want, limit = 25) {
      for (let i = 0; i < limit; i++) {
        await page.keyboard.press("Tab");
        if ((await focused()) === want) return;
      }
      assert.fail(`Tab never reached ${want}`);
    }
    await tabTo("ak");
    await page.keyboard.type(AK);
    await page.keyboard.press("Tab");
    await page.keyboard.type(SK);
    await page.keyboard.press("Enter");
    await page.getByRole("heading", { level: 1, name: "Servers" }).waitFor();
    // The heading holds the focus after each navigation; Tab leads on to the main menu. The
    // heading is there before the page's data, and takes the focus once the page has rendered.
    await page.waitForFunction(() => document.activeElement?.tagName === "H1", null, { timeout: 5000 }).catch(() => {});
    assert.equal(await page.evaluate(() => document.activeElement.tagName), "H1");
    await tabTo("Images", 40);
    await page.keyboard.press("Enter");
    await page.getByRole("heading", { level: 1, name: "Images" }).waitFor();
    await tabTo("Servers", 40);
    await page.keyboard.press("Enter");
    await page.getByRole("heading", { level: 1, name: "Servers" }).waitFor();
    await tabTo("web-1", 40);
    await page.keyboard.press("Enter");
    await page.getByRole("heading", { level: 1, name: "web-1" }).waitFor();
    // Every control shows where the focus is.
    await tabTo("Reboot", 40);
    const outline = await page.evaluate(() => getComputedStyle(document.activeElement).outlineStyle);
    assert.notEqual(outline, "none");
    await page.keyboard.press("Enter");
    // The reboot's job is followed on the server's own page.
    await page.getByRole("status").filter({ hasText: "finished: SUCCESS" }).waitFor({ timeout: 30_000 });
    // A batch action: the steps are its sub-job's, all done.
    const steps = await page.locator("section[aria-label^='Sub-job'] li[data-step]").evaluateAll((els) => els.map((e) => e.dataset.status));
    assert.ok(steps.length >= 1 && steps.every((st) => st === "SUCCESS"), JSON.stringify(steps));
    assert.deepEqual(page.errors, []);
    await page.context().close();
  });

  test("keeps the servers' status live while the list is open", async () => {
    const page = await newPage();
    await signInWithKeys(page);
    const row = page.locator("tr[data-server]", { hasText: "web-1" });
    await row.getByText("ACTIVE").waitFor();
    const id = await row.getAttribute("data-server");
    // Stopped from elsewhere (an SDK, a script): the open list follows without a reload.
    const { job_id } = await api("POST", "/v1/{p}/cloudservers/action", { "os-stop": { type: "SOFT", servers: [{ id }] } });
    await row.getByText("SHUTOFF").waitFor({ timeout: 15_000 });
    await shot(page, "servers-stopped");
    assert.equal((await waitJob(job_id)).status, "SUCCESS");
    const started = await api("POST", "/v1/{p}/cloudservers/action", { "os-start": { servers: [{ id }] } });
    await row.getByText("ACTIVE").waitFor({ timeout: 15_000 });
    assert.equal((await waitJob(started.job_id)).status, "SUCCESS");
    assert.deepEqual(page.errors, []);
    await page.context().close();
  });

  test("fits a phone-sized screen", async () => {
    const page = await newPage({ width: 360, height: 740 });
    await signInWithKeys(page);
    await page.getByRole("heading", { level: 1, name: "Servers" }).waitFor();
    await page.getByRole("link", { name: "web-1" }).waitFor();
    for (const [hash, heading] of [
      ["#/servers", "Servers"],
      ["#/keypairs", "Key pairs"],
      ["#/servers/new", "Create a server"],
    ]) {
      await open(page, hash, heading);
      await page.waitForTimeout(200);
      // Nothing wider than the screen but a table, which scrolls inside its own region.
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      assert.ok(overflow <= 0, `${heading} is ${overflow}px wider than the screen`);
      await assertAccessible(page, `${heading} (phone)`);
      await shot(page, `phone-${heading.replace(/\W+/g, "-").toLowerCase()}`);
    }
    await page.context().close();
  });
  test("imports a public key, deletes a key pair and a server", async () => {
    const page = await newPage();
    await signInWithKeys(page);
    await page.getByRole("heading", { level: 1, name: "Servers" }).waitFor();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ecsd-console-key-"));
    execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "mine", "-f", path.join(dir, "id")]);
    const publicKey = fs.readFileSync(path.join(dir, "id.pub"), "utf8").trim();
    const fingerprint = execFileSync("ssh-keygen", ["-l", "-E", "md5", "-f", path.join(dir, "id.pub")], { encoding: "utf8" });
    fs.rmSync(dir, { recursive: true, force: true });
    await page.getByRole("link", { name: "Key pairs" }).click();
    const form = page.locator("form[aria-labelledby=import-kp]");
    await form.getByLabel("Name").fill("mine");
    await form.getByLabel("Public key").fill(publicKey);
    await form.getByRole("button", { name: "Import" }).click();
    const row = page.locator('tr[data-keypair="mine"]');
    await row.waitFor();
    // The fingerprint the service computed is the one ssh-keygen gives for the same key.
    const md5 = /MD5:([0-9a-f:]+)/.exec(fingerprint)[1];
    assert.equal(await row.locator("code").textContent(), md5);
    // An import of a key that is not one is refused, and says so.
    await form.getByLabel("Name").fill("broken");
    await form.getByLabel("Public key").fill("ssh-ed25519 not-base64!");
    await form.getByRole("button", { name: "Import" }).click();
    await form.getByRole("alert").waitFor();
    assert.match(await form.getByRole("alert").textContent(), /Ecs\.\d{4}|\d{3}/);
    assert.equal(await page.locator('tr[data-keypair="broken"]').count(), 0);

    page.on("dialog", (d) => d.accept());
    await page.getByRole("button", { name: "Delete mine" }).click();
    await row.waitFor({ state: "detached" });
    assert.equal((await apiRaw("GET", "/v2.1/{p}/os-keypairs/mine")).status, 404);

    // The server: deleted from its page, its job followed, back to an empty list.
    await page.getByRole("link", { name: "Servers" }).click();
    await page.getByRole("link", { name: "web-1" }).click();
    await page.getByRole("heading", { level: 1, name: "web-1" }).waitFor();
    await page.getByRole("button", { name: "Delete" }).click();
    await page.getByRole("heading", { level: 1, name: "Servers" }).waitFor({ timeout: 30_000 });
    await page.getByText("No servers yet.").waitFor({ timeout: 15_000 });
    const left = await api("GET", "/v1/{p}/cloudservers/detail");
    assert.equal(left.count, 0);
    assert.deepEqual(page.errors, []);
    await page.context().close();
  });
});
