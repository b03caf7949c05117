// SPDX-License-Identifier: MIT
// Every struct lib/ffi.js and lib/ffi_codec.js declare has the C compiler's size and member offsets: the
// layout program (test/layout.c, built by `make check-node-binding`; its path in
// BP_NODE_LAYOUT) prints them from the public headers.
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const { execFileSync } = require('node:child_process');
const { koffi } = require('../lib/ffi.js');

const types = { ...require('../lib/ffi.js').types, ...require('../lib/ffi_codec.js').types };

const probe = process.env.BP_NODE_LAYOUT;

test('koffi layouts equal the headers\' layouts', { skip: !probe && 'BP_NODE_LAYOUT not set' }, () => {
  const layout = JSON.parse(execFileSync(probe).toString());
  assert.deepStrictEqual(Object.keys(layout).sort(), Object.keys(types).sort());
  for (const [name, d] of Object.entries(layout)) {
    assert.strictEqual(koffi.sizeof(types[name]), d.sizeof, `sizeof(${name})`);
    for (const [m, off] of Object.entries(d.members)) {
      assert.strictEqual(koffi.offsetof(types[name], m), off, `offsetof(${name}, ${m})`);
    }
  }
});
