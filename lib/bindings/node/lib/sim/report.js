// SPDX-License-Identifier: MIT
// The report of one case: its first failure (later ones are ignored), the reason the whole
// case is skipped, the parts skipped and the informational notes; and its result line.
'use strict';

class Report {
  constructor() {
    this.failed = false;
    this.skipped = false;
    this.failText = '';
    this.skipText = '';
    this.parts = [];
    this.notes = [];
  }

  /** Records the first failure. @return false (for `return rep.fail(...)`). */
  fail(msg) {
    if (!this.failed) {
      this.failed = true;
      this.failText = msg;
    }
    return false;
  }

  skip(msg) {
    this.skipped = true;
    this.skipText = msg;
  }

  part(msg) { this.parts.push(msg); }
  note(msg) { this.notes.push(msg); }

  /** 'PASS' | 'FAIL' | 'SKIP' */
  get status() { return this.failed ? 'FAIL' : this.skipped ? 'SKIP' : 'PASS'; }

  /** `PASS id`, `FAIL id: why`, `SKIP id: why`, as bpsim writes them. */
  line(id) {
    if (this.failed) return `FAIL ${id}: ${this.failText}`;
    if (this.skipped) return `SKIP ${id}: ${this.skipText}`;
    const parts = this.parts.join('; ');
    const notes = this.notes.join('; ');
    const detail = (parts ? `skipped parts: ${parts}` : '') + (parts && notes ? ' -- ' : '') +
      (notes ? `note: ${notes}` : '');
    return detail ? `PASS ${id} -- ${detail}` : `PASS ${id}`;
  }
}

module.exports = { Report };
