// SPDX-License-Identifier: MIT
// Starts kinesalite (a local Kinesis; its cli.js is the argument) on 127.0.0.1 at a port the
// system picks, prints that port, and serves until killed. kinesalite's own CLI cannot do
// either: it binds every interface, and --port 0 falls back to 4567.
'use strict';
const path = require('path');
const cli = process.argv[2];
if (!cli) {
  console.error('usage: node kinesalite.js /path/to/kinesalite/cli.js');
  process.exit(2);
}
const kinesalite = require(path.dirname(path.resolve(cli)));
// Streams become ACTIVE quickly; room for the shards a test's splits make.
const server = kinesalite({ createStreamMs: 20, deleteStreamMs: 20, updateStreamMs: 20, shardLimit: 100 });
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(server.address().port + '\n');
});
