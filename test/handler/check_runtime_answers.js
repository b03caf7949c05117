// SPDX-License-Identifier: MIT
// check_runtime.sh's assertions: what the custom runtime posted to the local Runtime API
// (runtime_api.js's OUT) against what it must post for each event, from handler_ref's lines
// (EXPECTED) and, when given, Powertools' (REF, with gen_events.js's META: valid events only):
//   a response line            POST /response with exactly that body (and Powertools' body);
//   error FullBatchFailureError POST /error, errorType FullBatchFailureError (header and body);
//   error BP_ERR_X: message     POST /error, errorType InvalidEvent, errorMessage "BP_ERR_X: ...".
// usage: node check_runtime_answers.js OUT EXPECTED [META REF]
'use strict';
const fs = require('fs');
const lines = (f) => { const l = fs.readFileSync(f, 'utf8').split('\n'); if (l[l.length - 1] === '') l.pop(); return l; };
const [outFile, expFile, metaFile, refFile] = process.argv.slice(2);
const got = lines(outFile).map((l) => JSON.parse(l));
const want = lines(expFile);
const metas = metaFile ? lines(metaFile).map((l) => JSON.parse(l)) : null;
const ref = refFile ? lines(refFile) : null;
const bad = [];
for (const v of got.filter((g) => g.kind === 'violation')) bad.push(`protocol violation: ${v.detail}`);
const answers = got.filter((g) => g.kind === 'response' || g.kind === 'error');
if (answers.length !== want.length) bad.push(`${answers.length} answers for ${want.length} events`);
let responses = 0, errors = 0, powertools = 0;
answers.forEach((a, i) => {
  const w = want[i], where = `event ${i + 1}`;
  if (a.index !== i) return bad.push(`${where}: answer for event ${a.index + 1}`);
  if (!w.startsWith('error ')) {
    responses++;
    if (a.kind !== 'response' || a.body !== w) bad.push(`${where}: want response ${w}, got ${a.kind} ${a.body}`);
    if (metas && metas[i].cat === 'valid') {
      powertools++;
      if (a.body !== ref[i]) bad.push(`${where}: Powertools answers ${ref[i]}, the runtime ${a.body}`);
    }
    return;
  }
  errors++;
  const type = w === 'error FullBatchFailureError' ? 'FullBatchFailureError' : 'InvalidEvent';
  let body = null;
  try { body = JSON.parse(a.body); } catch (e) { /* reported below */ }
  if (a.kind !== 'error' || a.errorType !== type || !body || body.errorType !== type || typeof body.errorMessage !== 'string')
    return bad.push(`${where}: want an error of type ${type}, got ${a.kind} (header ${a.errorType}) ${a.body}`);
  if (type === 'InvalidEvent' && !body.errorMessage.startsWith(w.slice(6, w.indexOf(':'))))
    bad.push(`${where}: errorMessage ${body.errorMessage} does not name ${w}`);
  if (metas && metas[i].cat === 'valid' && ref[i] !== w) bad.push(`${where}: Powertools ${ref[i]}, the runtime ${type}`);
});
if (bad.length) {
  process.stdout.write(`runtime: ${bad.length} problem(s):\n${bad.slice(0, 30).map((b) => '  ' + b).join('\n')}\n`);
  process.exit(1);
}
process.stdout.write(`${responses} responses, ${errors} errors as expected` +
  (metas ? ` (${powertools} response bodies equal to Powertools')` : '') + '\n');
