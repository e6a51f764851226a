// Starts ecsd for the browser tests, as the other suites do: a fresh temporary data directory,
// `--listen 127.0.0.1:0` (the kernel picks a free loopback port), the test account in the
// environment and a second, password account in a config file, the endpoint read from the
// start-up banner, and a stop by PID (SIGTERM, then SIGKILL after 5 s).

import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import readline from "node:readline";
import { fileURLToPath } from "node:url";

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");

export const AK = "ECSDCONSOLETESTAK001";
export const SK = "ecsdConsoleTestSecretKey000000000000001";
export const PROJECT = "3c0a7e5b2d914f6e8a1b2c3d4e5f6a7b";
/** The IAM user of the config file's account, in the same project. */
export const USER = "carol";
export const PASSWORD = "Carol-Password-1";

const CONFIG = `
[[accounts]]
project_id = "${PROJECT}"
project_name = "cn-north-4"
user_id = "4a1b2c3d4e5f60718293a4b5c6d7e8f9"
ak = "ECSDCONSOLETESTAK002"
sk = "ecsdConsoleTestSecretKey000000000000002"
user_name = "${USER}"
password = "${PASSWORD}"
`;

export async function startEcsd({ stepMs = 150 } = {}) {
  const bin = process.env.ECSD_BIN || path.join(REPO, "target", "debug", "ecsd");
  if (!fs.existsSync(bin)) throw new Error(`ecsd binary ${bin} does not exist (set ECSD_BIN)`);
  const work = fs.mkdtempSync(path.join(os.tmpdir(), "ecsd-browser-"));
  const data = path.join(work, "data");
  fs.mkdirSync(data);
  const config = path.join(work, "accounts.toml");
  fs.writeFileSync(config, CONFIG);
  const log = path.join(work, "stderr.log");
  const fd = fs.openSync(log, "w");
  const env = {
    ...process.env,
    HUAWEICLOUD_SDK_AK: AK,
    HUAWEICLOUD_SDK_SK: SK,
    HUAWEICLOUD_SDK_PROJECT_ID: PROJECT,
    ECSD_SIM_STEP_MS: String(stepMs),
  };
  const args = ["serve", "--listen", "127.0.0.1:0", "--listen-tls", "off", "--data-dir", data, "--config", config];
  const child = spawn(bin, args, { env, stdio: ["ignore", "pipe", fd] });
  fs.closeSync(fd);
  const exited = new Promise((resolve) => child.once("exit", resolve));
  let running = true;
  exited.then(() => (running = false));
  process.once("exit", () => running && child.kill("SIGKILL"));

  const stop = async () => {
    if (running) {
      child.kill("SIGTERM");
      let timer;
      const late = new Promise((r) => (timer = setTimeout(() => r("late"), 5000)));
      if ((await Promise.race([exited, late])) === "late") {
        child.kill("SIGKILL");
        await exited;
      }
      clearTimeout(timer);
    }
    fs.rmSync(work, { recursive: true, force: true });
  };

  const lines = readline.createInterface({ input: child.stdout });
  const endpoint = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("no banner within 30 s")), 30_000);
    lines.on("line", (line) => {
      const m = /^\s+endpoint:\s+(http:\/\/\S+)\s*$/.exec(line);
      if (m) {
        clearTimeout(timer);
        resolve(m[1].replace(/\/+$/, ""));
      }
    });
    exited.then((code) => reject(new Error(`ecsd exited (${code}): ${fs.readFileSync(log, "utf8").slice(-2000)}`)));
  }).catch(async (e) => {
    await stop();
    throw e;
  });
  return { endpoint, pid: child.pid, stop };
}
