// SPDX-License-Identifier: MIT
// xorshift64*: the runner's request ids and UUIDs, seeded per case so runs are reproducible
// (and the same as bpsim's).
'use strict';

const MASK = (1n << 64n) - 1n;

class Rng {
  constructor(seed) { this.s = BigInt(seed) & MASK; }

  next() {
    let x = this.s;
    x ^= x >> 12n;
    x = (x ^ (x << 25n)) & MASK;
    x ^= x >> 27n;
    this.s = x;
    return (x * 0x2545F4914F6CDD1Dn) & MASK;
  }

  /** A version-4-shaped UUID from two draws. */
  uuid() {
    const a = this.next();
    const b = this.next();
    const hex = (v, n) => v.toString(16).padStart(n, '0');
    return `${hex(a >> 32n, 8)}-${hex((a >> 16n) & 0xffffn, 4)}-4${hex(a & 0xfffn, 3)}-` +
      `${hex(0x8000n | ((b >> 48n) & 0x3fffn), 4)}-${hex(b & 0xffffffffffffn, 12)}`;
  }
}

/** @p i times the 64-bit golden ratio, modulo 2^64 (spreads consecutive case indexes). */
const spread = (i) => (BigInt(i) * 0x9E3779B97F4A7C15n) & MASK;

module.exports = { Rng, spread };
