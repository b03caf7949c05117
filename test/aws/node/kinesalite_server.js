// SPDX-License-Identifier: MIT
// Starts kinesalite (in memory) on 127.0.0.1. Its own cli.js cannot do this: it listens on every
// interface and treats `--port 0` as "use 4567". Prints `listening <port>` once ready.
// Usage: node kinesalite_server.js [--port N] [--createStreamMs MS] [--deleteStreamMs MS]
//                                  [--updateStreamMs MS] [--shardLimit N]
'use strict';
const kinesalite = require('kinesalite');

const opts = { port: 0, createStreamMs: 0, deleteStreamMs: 0, updateStreamMs: 0, shardLimit: 100 };
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i += 2) {
  const name = argv[i].replace(/^--/, '');
  if (!(name in opts) || argv[i + 1] === undefined || !/^\d+$/.test(argv[i + 1])) {
    process.stderr.write(`kinesalite_server: bad option ${argv[i]} ${argv[i + 1] || ''}\n`);
    process.exit(2);
  }
  opts[name] = Number(argv[i + 1]);
}

const server = kinesalite({
  createStreamMs: opts.createStreamMs,
  deleteStreamMs: opts.deleteStreamMs,
  updateStreamMs: opts.updateStreamMs,
  shardLimit: opts.shardLimit,
});
server.listen(opts.port, '127.0.0.1', () => {
  process.stdout.write(`listening ${server.address().port}\n`);
});
// Lines are written synchronously, so nothing is lost by leaving at once (close() would wait for keep-alive clients).
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => process.exit(0));
