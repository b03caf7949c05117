#!/usr/bin/env node
// SPDX-License-Identifier: MIT
// node lib/bindings/node/sim.js [--only ID,...] FILE.json: bpsim's scenario runner with the host
// written in JavaScript over this binding (lib/sim/). One line per case -- `PASS <id>`,
// `FAIL <id>: <first difference>`, `SKIP <id>: <why>` -- then `N passed, N failed, N skipped`.
// Exit status: 0 nothing failed, 1 a case failed, 2 bad usage or a malformed file.
'use strict';

const USAGE = 'usage: node sim.js [--only ID,...] FILE.json\n\n' +
  'Replays the scenarios and config cases of FILE (the esm-scenarios.json format) through the\n' +
  'batchpoint engine with a simulated clock, stream and function written in JavaScript, and\n' +
  "checks each against its `expect`. The library: BATCHPOINT_LIBRARY, else the build tree's.\n";

function main(argv) {
  let only = null;
  let file = null;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '-h' || a === '--help') {
      process.stdout.write(USAGE);
      return 0;
    }
    if (a === '--only' && i + 1 < argv.length) only = argv[++i].split(',');
    else if (a.startsWith('--only=')) only = a.slice(7).split(',');
    else if (a[0] === '-' && a.length > 1) {
      process.stderr.write(`sim.js: unknown option ${a}\n${USAGE}`);
      return 2;
    } else if (file === null) file = a;
    else {
      process.stderr.write('sim.js: one scenario file only\n');
      return 2;
    }
  }
  if (file === null) {
    process.stderr.write(USAGE);
    return 2;
  }
  const { runFile } = require('./lib/sim/run.js');
  const { LoadError } = require('./lib/sim/load.js');
  try {
    return runFile(file, { only }).failed ? 1 : 0;
  } catch (err) {
    if (!(err instanceof LoadError) && !(err instanceof RangeError)) throw err;
    process.stderr.write(`sim.js: ${err instanceof LoadError ? `${file}: ` : ''}${err.message}\n`);
    return 2;
  }
}

process.exitCode = main(process.argv.slice(2));
