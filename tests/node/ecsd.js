// Runs ecsd for the Node SDK suite exactly as the Python suite's conftest.py does: a fresh
// temporary data directory, `--listen 127.0.0.1:0` (the kernel picks a free loopback port), the
// fixed test account in the environment, the endpoint read from the start-up banner, and a stop
// by PID (SIGTERM, then SIGKILL after 5 s) that also runs when a test fails.
'use strict';

const { spawn } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const readline = require('node:readline');

const REPO_ROOT = path.resolve(__dirname, '..', '..');

// The same fixed credentials the Python suite hands to ecsd through its environment.
const AK = 'ECSDSDKTESTAK0000001';
const SK = 'ecsdSdkTestSecretKey00000000000000000001';
const PROJECT_ID = '5f1c7a2e9b3d4c6a8e0f1a2b3c4d5e6f';

const STARTUP_TIMEOUT_MS = 30_000;
const STOP_GRACE_MS = 5_000;

// The banner lines conftest.py reads: "  endpoint: http://127.0.0.1:PORT", "  user_id: <hex>".
const ENDPOINT_RE = /^\s+endpoint:\s+(https?:\/\/\S+)\s*$/;
const USER_ID_RE = /^\s+user_id:\s+([0-9a-f]{32})\s*$/;

function ecsdBinary() {
  const bin = process.env.ECSD_BIN || path.join(REPO_ROOT, 'target', 'debug', 'ecsd');
  if (!fs.existsSync(bin)) {
    throw new Error(`ecsd binary ${bin} does not exist (set ECSD_BIN or run cargo build -p ecsd)`);
  }
  return bin;
}

function tail(file, n = 40) {
  try {
    return fs.readFileSync(file, 'utf8').split('\n').slice(-n).join('\n');
  } catch {
    return '';
  }
}

function connectOnce(host, port) {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host, port, timeout: 1000 });
    sock.once('connect', () => { sock.destroy(); resolve(); });
    sock.once('timeout', () => { sock.destroy(); reject(new Error('connect timeout')); });
    sock.once('error', reject);
  });
}

// The banner should follow the bind; still, wait until the port accepts a connection.
async function waitListening(endpoint) {
  const { hostname, port } = new URL(endpoint);
  const until = Date.now() + 5000;
  for (;;) {
    try {
      await connectOnce(hostname, Number(port));
      return;
    } catch (err) {
      if (Date.now() > until) throw err;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

class Ecsd {
  constructor(child, workDir, logPath) {
    this.child = child;
    this.pid = child.pid;
    this.workDir = workDir;
    this.logPath = logPath;
    this.endpoint = '';
    this.userId = '';
    this.stdoutLines = [];
    this.exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
    this.running = true;
    this.exited.then(() => { this.running = false; });
  }

  // Stops the process this suite started, by its PID, and removes its data directory.
  async stop() {
    if (this.running) {
      try { process.kill(this.pid, 'SIGTERM'); } catch { /* already gone */ }
      let timer;
      const grace = new Promise((r) => { timer = setTimeout(() => r('timeout'), STOP_GRACE_MS); });
      const outcome = await Promise.race([this.exited, grace]);
      clearTimeout(timer); // a pending timer would keep the test process alive
      if (outcome === 'timeout') {
        try { process.kill(this.pid, 'SIGKILL'); } catch { /* already gone */ }
        await this.exited;
      }
    }
    fs.rmSync(this.workDir, { recursive: true, force: true });
  }

  // A last resort for a test process that exits without running its `after` hooks: a
  // synchronous kill by PID (the 'exit' event allows no waiting).
  killSync() {
    if (this.running) {
      try { process.kill(this.pid, 'SIGKILL'); } catch { /* already gone */ }
    }
  }
}

async function startEcsd({ stepMs = 0 } = {}) {
  const bin = ecsdBinary();
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ecsd-node-'));
  const dataDir = path.join(workDir, 'data');
  fs.mkdirSync(dataDir);
  const logPath = path.join(workDir, 'stderr.log');
  const logFd = fs.openSync(logPath, 'w');
  const env = {
    ...process.env,
    HUAWEICLOUD_SDK_AK: AK,
    HUAWEICLOUD_SDK_SK: SK,
    HUAWEICLOUD_SDK_PROJECT_ID: PROJECT_ID,
    ECSD_SIM_STEP_MS: String(stepMs),
  };
  const child = spawn(
    bin,
    ['serve', '--listen', '127.0.0.1:0', '--listen-tls', '127.0.0.1:0', '--data-dir', dataDir, '--driver', 'sim'],
    { env, stdio: ['ignore', 'pipe', logFd] },
  );
  fs.closeSync(logFd);
  const ecsd = new Ecsd(child, workDir, logPath);
  process.once('exit', () => ecsd.killSync());

  // Keep draining stdout for the whole life of the process so that it never blocks on a full pipe.
  const lines = readline.createInterface({ input: child.stdout });
  const banner = new Promise((resolve, reject) => {
    lines.on('line', (line) => {
      ecsd.stdoutLines.push(line);
      let m = ENDPOINT_RE.exec(line);
      if (m) ecsd.endpoint = m[1].replace(/\/+$/, '');
      m = USER_ID_RE.exec(line);
      if (m) ecsd.userId = m[1];
      if (ecsd.endpoint && ecsd.userId) resolve();
    });
    child.once('error', reject);
    ecsd.exited.then(({ code, signal }) => reject(new Error(`ecsd exited (code ${code}, signal ${signal})`)));
  });
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no complete banner within ${STARTUP_TIMEOUT_MS} ms`)), STARTUP_TIMEOUT_MS);
  });
  try {
    await Promise.race([banner, timeout]);
    await waitListening(ecsd.endpoint);
  } catch (err) {
    const stderr = tail(logPath); // read before stop() removes the directory
    await ecsd.stop().catch(() => {});
    throw new Error(`ecsd did not start: ${err.message}\nstdout:\n${ecsd.stdoutLines.join('\n')}\nstderr:\n${stderr}`);
  } finally {
    clearTimeout(timer);
  }
  return ecsd;
}

module.exports = { AK, SK, PROJECT_ID, startEcsd };
