// SPDX-License-Identifier: MIT
// README.md's Node consumer runs as written: the first ```js block of the "## Node" section,
// run from the repository root (where its require path points) in a child node; it must print
// the record it was handed and then the checkpoint and the invocation count.
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawnSync } = require('node:child_process');

const ROOT = path.join(__dirname, '..', '..', '..', '..');

function nodeBlocks() {
  const text = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  let section = text.slice(text.indexOf('\n## Node\n'));
  section = section.slice(0, section.indexOf('\n## ', 1));
  return section.split('```js\n').slice(1).map((b) => b.slice(0, b.indexOf('```')));
}

test('README: the Node consumer runs as written', () => {
  const blocks = nodeBlocks();
  assert.ok(blocks.length >= 1);
  assert.ok(blocks[0].split('\n').length <= 25, 'the consumer stays about 20 lines');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bp-readme-'));
  try {
    // the block requires './lib/bindings/node': point it at this checkout from the temp file
    const file = path.join(dir, 'consumer.js');
    fs.writeFileSync(file, blocks[0].replace("require('./lib/bindings/node')",
      `require(${JSON.stringify(path.join(ROOT, 'lib', 'bindings', 'node'))})`));
    const r = spawnSync(process.execPath, [file], { encoding: 'utf8', timeout: 30000 });
    assert.strictEqual(r.status, 0, r.stderr);
    assert.deepStrictEqual(r.stdout.trim().split('\n'), ['100 hi', '100 1']);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
