// SPDX-License-Identifier: MIT
// Starts serverless-offline on 127.0.0.1 serving serverless.yml's function e2e-fn through the
// Lambda Invoke API, and prints `listening <port>` once it answers, like ../lambda_server.js.
// Usage: node start.js --log FILE [--port N]   (install first: cd test/aws/node/offline && npm ci)
// serverless-offline prints ":0" when given port 0, so a free port is found here first.
'use strict';
const net = require('net');
const path = require('path');
const { spawn } = require('child_process');

const argv = process.argv.slice(2);
let log = null, port = 0;
for (let i = 0; i < argv.length; i += 2) {
  if (argv[i] === '--log' && argv[i + 1]) log = path.resolve(argv[i + 1]);
  else if (argv[i] === '--port' && /^\d+$/.test(argv[i + 1] || '')) port = Number(argv[i + 1]);
  else {
    process.stderr.write('usage: start.js --log FILE [--port N]\n');
    process.exit(2);
  }
}
if (!log) {
  process.stderr.write('start.js: --log FILE is required\n');
  process.exit(2);
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => resolve(p)); });
  });
}

(async () => {
  if (!port) port = await freePort();
  const sls = path.join(__dirname, 'node_modules', 'serverless', 'bin', 'serverless.js');
  const child = spawn(process.execPath, [sls, 'offline', 'start', '--host', '127.0.0.1', '--lambdaPort', String(port)], {
    cwd: __dirname,
    stdio: ['ignore', 'pipe', 'pipe'],
    // No telemetry or update notices: they would try hosts this machine cannot reach.
    env: { ...process.env, E2E_LOG: log, SLS_TELEMETRY_DISABLED: '1', SLS_NOTIFICATIONS_MODE: 'off' },
  });
  let out = '', announced = false;
  // Serverless v3 logs to stderr: both streams go to our stderr, and are watched for the port.
  const watch = (d) => {
    process.stderr.write(d);
    out += d;
    if (!announced && /listening on http:\/\/127\.0\.0\.1:\d+/.test(out)) {
      announced = true;
      process.stdout.write(`listening ${port}\n`);
    }
  };
  child.stdout.on('data', watch);
  child.stderr.on('data', watch);
  child.on('exit', (code) => process.exit(code === null ? 128 : code));
  for (const s of ['SIGINT', 'SIGTERM']) process.on(s, () => child.kill(s));
})().catch((e) => {
  process.stderr.write(`start.js: ${e.message}\n`);
  process.exit(1);
});
