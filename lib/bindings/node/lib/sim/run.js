// SPDX-License-Identifier: MIT
// The scenario runner's driver: each selected scenario (every mapping run, then checked) and
// config case gives one result line; then bpsim's closing count line.
'use strict';
const { loadFile } = require('./load.js');
const { runMapping } = require('./host.js');
const { checkMapping, needsPayloads } = require('./expect.js');
const { runConfigCase } = require('./config_cases.js');
const { Report } = require('./report.js');

function runScenario(file, s, rep) {
  for (const m of s.maps) {
    if (rep.failed || rep.skipped) break;
    const { log, unsupported } = runMapping(file, s, m, { keepPayloads: needsPayloads(m) }, rep);
    if (!unsupported && !rep.failed) checkMapping(s, m, log, rep);
  }
  s.actions.forEach((a, i) => {
    if (a.expectResponse) {
      for (const k of a.expectResponse.keys()) rep.part(`actions[${i}].expect_response.${k} (API-level)`);
    }
    if (a.expectState !== undefined) rep.part(`actions[${i}].expect_state_eventually (API-level)`);
  });
}

/**
 * Runs @p path (only the ids in @p only when given), writing each line with @p write.
 * @return { passed, failed, skipped }; throws LoadError for a malformed file.
 */
function runFile(path, { only = null, write = (line) => process.stdout.write(`${line}\n`) } = {}) {
  const file = loadFile(path);
  if (only) {
    const ids = new Set([...file.scenarios, ...file.cases].map((x) => x.id));
    const unknown = only.find((id) => !ids.has(id));
    if (unknown !== undefined) throw new RangeError(`--only: no case "${unknown}" in ${path}`);
  }
  const counts = { passed: 0, failed: 0, skipped: 0 };
  const result = (id, rep) => {
    write(rep.line(id));
    counts[{ PASS: 'passed', FAIL: 'failed', SKIP: 'skipped' }[rep.status]]++;
  };
  const selected = (id) => !only || only.includes(id);
  for (const s of file.scenarios) {
    if (!selected(s.id)) continue;
    const rep = new Report();
    runScenario(file, s, rep);
    result(s.id, rep);
  }
  for (const c of file.cases) {
    if (!selected(c.id)) continue;
    const rep = new Report();
    runConfigCase(c, rep);
    result(c.id, rep);
  }
  write(`${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped`);
  return counts;
}

module.exports = { runFile };
