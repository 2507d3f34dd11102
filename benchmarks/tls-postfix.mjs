#!/usr/bin/env node
// Benchmark: our smtp-source's STARTTLS against a real Postfix smtpd (a private Postfix from
// @smtpstone/testbed, delivering to discard:, on 127.0.0.1).
//
// The harness makes a CA and a server certificate for mx.example.test with openssl in a temp
// dir, starts Postfix with smtpd_tls_cert_file / smtpd_tls_key_file and
// smtpd_tls_security_level = may, then runs our smtp-source CLI (packages/smtp-source/dist/cli.js)
// against its smtpd in three modes, interleaved (the order rotates each rep), -s 10 and a
// connection per message (no -d):
//   plain     plaintext
//   starttls  --starttls --tls-ca CA --tls-servername mx.example.test (a full handshake per connection)
//   reuse     the same plus --tls-session-reuse (session tickets; the result's tls.resumed shows it)
//
// Per run: msg/s from the source's --json (accepted / elapsed), our CPU two ways (the whole
// process, the harness's cutime+cstime delta, start-up included; and in the run only, from the
// --json generator record's mean CPU % times the elapsed time), and Postfix's CPU from /proc:
// the smtpd processes (utime+stime deltas; max_use is raised so none exits during the runs)
// and all of Postfix (the master's own and reaped children's CPU plus every live child's).
// Before each run the queue must be empty, so a run does not pay for the previous one's
// deliveries. One untimed warm-up run per mode first.
//
//   node benchmarks/tls-postfix.mjs [--reps N] [--m N] [--sessions N] [--no-warmup] [--out FILE]
//
// Needs root, Postfix and openssl. Build the workspace first: npx tsc -b packages/*
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeTestCerts, postfixMissing, startPrivatePostfix } from '@smtpstone/testbed';
import {
  root, setProgName, die, note, positiveInt, eachFlag, childCpuSeconds, track, tempDirs, round, sleep,
  textTable, markdownTable, distHash, machineMeta, finishMeta, writeResults, shebangNodeFlags, statFields, clkTck, keepStderr,
  summarizeRuns, tlsTotals,
} from './lib.mjs';

setProgName('tls-postfix');

const SERVER_NAME = 'mx.example.test';

const USAGE = `usage: node benchmarks/tls-postfix.mjs [options]
  --reps N        timed runs per mode, interleaved (default 3)
  --m N           messages per run, smtp-source -m (default 1000)
  --sessions N    smtp-source -s (default 10)
  --no-warmup     no untimed warm-up run per mode
  --out FILE      JSON results file (default benchmarks/results/tls-postfix-<timestamp>.json)
  --help`;

function parseArgs(argv) {
  const a = { reps: 3, m: 1000, sessions: 10, warmup: true, out: undefined, ourSource: join(root, 'packages/smtp-source/dist/cli.js') };
  eachFlag(argv, (flag, value, arg) => {
    switch (flag) {
      case '--reps': a.reps = positiveInt(flag, value()); break;
      case '--m': a.m = positiveInt(flag, value()); break;
      case '--sessions': a.sessions = positiveInt(flag, value()); break;
      case '--no-warmup': a.warmup = false; break;
      case '--out': a.out = value(); break;
      case '--help': process.stdout.write(USAGE + '\n'); process.exit(0); break;
      default: die(`unknown argument: ${arg}\n${USAGE}`);
    }
  });
  return a;
}

// ---- Postfix's CPU from /proc -------------------------------------------------------------

/** Live children of pid: pid -> { comm, cpu }. */
function children(ppid) {
  const out = new Map();
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const f = statFields(e);
      if (f(4) !== ppid) continue;
      out.set(Number(e), { comm: readFileSync(`/proc/${e}/comm`, 'utf8').trim(), cpu: (f(14) + f(15)) / clkTck });
    } catch {
      // Gone meanwhile.
    }
  }
  return out;
}
/** A snapshot of Postfix's CPU: the master's own and reaped children's, plus each live child's. */
function postfixCpu(masterPid) {
  const f = statFields(masterPid);
  return { master: (f(14) + f(15) + f(16) + f(17)) / clkTck, kids: children(masterPid) };
}
/**
 * CPU between two snapshots. All of Postfix: exact, as a child reaped in between moves its
 * whole lifetime into the master's cutime/cstime. smtpd alone: live smtpd processes' deltas;
 * smtpdExited counts the ones that went away (then it is an undercount).
 */
function postfixCpuDelta(before, after) {
  let total = after.master - before.master;
  let smtpd = 0;
  let smtpdExited = 0;
  for (const [pid, k] of after.kids) {
    const d = k.cpu - (before.kids.get(pid)?.cpu ?? 0);
    total += d;
    if (k.comm === 'smtpd') smtpd += d;
  }
  for (const [pid, k] of before.kids) {
    if (after.kids.has(pid)) continue;
    total -= k.cpu;
    if (k.comm === 'smtpd') smtpdExited++;
  }
  return { total, smtpd, smtpdExited, smtpdLive: [...after.kids.values()].filter((k) => k.comm === 'smtpd').length };
}

/** Messages in Postfix's queue (incoming, active, deferred, maildrop, hold). */
function queued(queueDir) {
  const count = (d) => {
    let n = 0;
    let entries;
    try {
      entries = readdirSync(d, { withFileTypes: true });
    } catch {
      return 0;
    }
    for (const e of entries) n += e.isDirectory() ? count(join(d, e.name)) : 1;
    return n;
  };
  return ['incoming', 'active', 'deferred', 'maildrop', 'hold'].reduce((n, q) => n + count(join(queueDir, q)), 0);
}
async function waitForEmptyQueue(queueDir, timeoutMs = 60000) {
  const deadline = Date.now() + timeoutMs;
  let n;
  while ((n = queued(queueDir)) > 0) {
    if (Date.now() > deadline) throw new Error(`Postfix's queue still holds ${n} message(s) after ${timeoutMs / 1000} s`);
    await sleep(100);
  }
}

// ---- modes and one run --------------------------------------------------------------------

function modes(certs) {
  const tls = ['--starttls', '--tls-ca', certs.caFile, '--tls-servername', SERVER_NAME];
  return [
    { id: 'plain', name: 'plaintext', args: [] },
    { id: 'starttls', name: 'STARTTLS, full handshake per connection', args: tls },
    { id: 'reuse', name: 'STARTTLS + --tls-session-reuse', args: [...tls, '--tls-session-reuse'] },
  ];
}

async function runSource(a, pf, masterPid, mode, m, work) {
  const jsonFile = join(work, 'source.json');
  rmSync(jsonFile, { force: true });
  await waitForEmptyQueue(join(pf.dir, 'queue'));
  const args = [...shebangNodeFlags(a.ourSource), a.ourSource, '-s', String(a.sessions), '-m', String(m), ...mode.args, '--json', jsonFile, `127.0.0.1:${pf.port}`];
  const pf0 = postfixCpu(masterPid);
  const child0 = childCpuSeconds();
  const child = track(spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'] }));
  const stderrText = keepStderr(child, 20000);
  const kill = setTimeout(() => child.kill('SIGKILL'), 180000);
  const exit = await new Promise((r) => child.once('exit', (code, signal) => r({ code, signal })));
  clearTimeout(kill);
  // A moment for smtpd to see the last QUITs and closes.
  await sleep(200);
  const pfCpu = postfixCpuDelta(pf0, postfixCpu(masterPid));
  const sourceCpuS = childCpuSeconds() - child0;
  let result;
  try {
    result = JSON.parse(readFileSync(jsonFile, 'utf8'));
  } catch {
    return { ok: false, exit, stderr: stderrText().trim().slice(-2000) };
  }
  const accepted = result.messages.accepted;
  const problems = result.messages.rejected + result.messages.failed + Object.values(result.errors ?? {}).reduce((x, y) => x + y, 0);
  const ok = exit.code === 0 && accepted === m && problems === 0 && result.fatal === undefined;
  const elapsedS = result.elapsedMs / 1000;
  const inRunCpuS = result.generator ? (result.generator.cpuPercent.mean / 100) * elapsedS : NaN;
  return {
    ok,
    exit,
    ...(ok ? {} : { stderr: stderrText().trim().slice(-2000) }),
    accepted,
    problems,
    elapsedS: round(elapsedS, 3),
    msgPerS: round(accepted / elapsedS, 1),
    sourceCpuS: round(sourceCpuS, 3),
    sourceUsPerMsg: round((sourceCpuS / accepted) * 1e6, 1),
    sourceInRunCpuS: round(inRunCpuS, 3),
    sourceInRunUsPerMsg: round((inRunCpuS / accepted) * 1e6, 1),
    generator: result.generator ? { cpuPercentMean: result.generator.cpuPercent.mean, eventLoopDelayP99Ms: result.generator.eventLoopDelayMs.p99, saturated: result.generator.saturated } : undefined,
    smtpdCpuS: round(pfCpu.smtpd, 3),
    smtpdUsPerMsg: round((pfCpu.smtpd / accepted) * 1e6, 1),
    smtpdExited: pfCpu.smtpdExited,
    smtpdLive: pfCpu.smtpdLive,
    postfixCpuS: round(pfCpu.total, 3),
    postfixUsPerMsg: round((pfCpu.total / accepted) * 1e6, 1),
    ...(result.tls ? { tls: { handshakes: result.tls.handshakes, resumed: result.tls.resumed, resumptionRate: result.tls.resumptionRate, protocols: result.tls.protocols, ciphers: result.tls.ciphers } } : {}),
    loadavg1: round(loadavg()[0], 2),
  };
}

function summarize(runs) {
  const { summary, good } = summarizeRuns(runs, { sourceUsPerMsg: 1, sourceInRunUsPerMsg: 1, smtpdUsPerMsg: 1, postfixUsPerMsg: 1 });
  const tls = tlsTotals(good);
  return {
    ...summary,
    smtpdExited: good.reduce((n, r) => n + r.smtpdExited, 0),
    ...(tls && { ...tls, resumptionRate: tls.handshakes > 0 ? round(tls.resumed / tls.handshakes, 3) : 0 }),
  };
}

const HEAD = ['mode', 'msg/s median (range)', 'ratio to plaintext', 'our CPU µs/msg in run (whole process)', 'smtpd CPU µs/msg', 'all Postfix CPU µs/msg', 'resumed / handshakes (rate)'];
function rows(out) {
  const plain = out.modes.find((x) => x.id === 'plain')?.summary;
  return out.modes.map((v) => {
    const s = v.summary;
    return [
      v.name,
      s.ok === 0 ? 'FAILED' : `${Math.round(s.msgPerS.median)} (${Math.round(s.msgPerS.min)}–${Math.round(s.msgPerS.max)})`,
      plain?.ok ? `${(s.msgPerS.median / plain.msgPerS.median).toFixed(2)}×` : '–',
      `${s.sourceInRunUsPerMsg ?? '?'} (${s.sourceUsPerMsg ?? '?'})`,
      `${s.smtpdUsPerMsg ?? '?'}`,
      `${s.postfixUsPerMsg ?? '?'}`,
      s.handshakes === undefined ? '–' : `${s.resumed}/${s.handshakes} (${Math.round(s.resumptionRate * 100)} %)`,
    ];
  });
}

async function main() {
  const a = parseArgs(process.argv.slice(2));
  const missing = postfixMissing();
  if (missing) die(`cannot start a private Postfix: ${missing}`);
  if (!existsSync(a.ourSource)) die(`${a.ourSource} not found: build first (npx tsc -b packages/*)`);
  const started = new Date();
  const meta = {
    ...machineMeta(started),
    reps: a.reps,
    m: a.m,
    sessions: a.sessions,
    warmup: a.warmup,
    build: { source: distHash(a.ourSource) },
    openssl: execFileSync('openssl', ['version'], { encoding: 'utf8' }).trim(),
    certificate: `RSA 2048, CN/SAN ${SERVER_NAME}, signed by a CA made for the run`,
    loadavgStart: loadavg().map((x) => round(x, 2)),
  };
  const work = mkdtempSync(join(tmpdir(), 'tls-postfix-'));
  tempDirs.add(work);
  let pf;
  // On a signal, stop the private Postfix (a daemon, it would outlive us) synchronously, before
  // lib.mjs's handler kills our children, removes the temp dirs and exits.
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.prependListener(sig, () => {
      if (!pf) return;
      try {
        execFileSync('postfix', ['-c', pf.configDir, 'stop'], { stdio: 'ignore', timeout: 10000 });
      } catch {
        // Not running any more.
      }
      rmSync(pf.dir, { recursive: true, force: true });
    });
  }
  const out = { modes: [], failures: [] };
  try {
    // A CA and a server certificate for SERVER_NAME, RSA 2048, in a directory smtpd can read.
    const certs = makeTestCerts({ names: [SERVER_NAME], keyType: 'rsa' });
    tempDirs.add(certs.dir);
    pf = await startPrivatePostfix({
      main: {
        smtpd_tls_cert_file: certs.certFile,
        smtpd_tls_key_file: certs.keyFile,
        smtpd_tls_security_level: 'may',
        // Keep each smtpd alive over the whole run, so its CPU can be read from /proc.
        max_use: '1000000',
        max_idle: '3600s',
      },
    });
    const masterPid = Number(readFileSync(join(pf.dir, 'queue', 'pid', 'master.pid'), 'utf8').trim());
    meta.postfixMain = pf.configDir ? execFileSync('postconf', ['-c', pf.configDir, '-n', 'smtpd_tls_security_level', 'max_use', 'default_transport'], { encoding: 'utf8' }).trim().split('\n') : undefined;
    meta.postfixDefaults = execFileSync('postconf', ['-c', pf.configDir, 'smtpd_tls_session_cache_timeout', 'smtpd_tls_session_cache_database', 'tls_high_cipherlist', 'smtpd_tls_protocols'], { encoding: 'utf8' }).trim().split('\n');
    note(`Postfix master pid ${masterPid}, smtpd on 127.0.0.1:${pf.port}; ${a.reps} rep(s) of -s ${a.sessions} -m ${a.m} per mode, interleaved`);
    const ms = modes(certs);
    const runs = Object.fromEntries(ms.map((v) => [v.id, []]));
    if (a.warmup) {
      for (const v of ms) {
        const w = await runSource(a, pf, masterPid, v, Math.min(200, a.m), work);
        if (!w.ok) out.failures.push({ mode: v.id, warmup: true, ...w });
        note(`  warm-up ${v.id}: ${w.ok ? `${w.msgPerS} msg/s` : `FAILED ${JSON.stringify(w.exit)} ${w.stderr ?? ''}`}`);
      }
    }
    for (let rep = 0; rep < a.reps; rep++) {
      const order = ms.map((_, i) => ms[(i + rep) % ms.length]);
      for (const v of order) {
        const r = await runSource(a, pf, masterPid, v, a.m, work);
        r.rep = rep + 1;
        runs[v.id].push(r);
        if (!r.ok) out.failures.push({ mode: v.id, ...r });
        note(
          `  rep ${rep + 1} ${v.id.padEnd(8)}: ` +
            (r.ok
              ? `${r.msgPerS} msg/s, ours ${r.sourceInRunUsPerMsg} µs/msg in run (${r.sourceUsPerMsg} whole), smtpd ${r.smtpdUsPerMsg} µs/msg, Postfix ${r.postfixUsPerMsg} µs/msg` +
                (r.tls ? `, resumed ${r.tls.resumed}/${r.tls.handshakes}` : '') + `, load ${r.loadavg1}`
              : `FAILED ${JSON.stringify(r.exit)} accepted ${r.accepted} ${r.stderr ?? ''}`),
        );
      }
    }
    for (const v of ms) out.modes.push({ id: v.id, name: v.name, sourceArgs: ['-s', String(a.sessions), '-m', String(a.m), ...v.args.map((x) => (x === certs.caFile ? 'CA' : x))], runs: runs[v.id], summary: summarize(runs[v.id]) });
    const by = Object.fromEntries(out.modes.map((v) => [v.id, v.summary]));
    out.ratios = [['starttls', 'plain'], ['reuse', 'plain'], ['reuse', 'starttls']].map(([x, y]) => ({
      of: x,
      to: y,
      msgPerS: round(by[x].msgPerS.median / by[y].msgPerS.median, 2),
      sourceInRunUsPerMsg: round(by[x].sourceInRunUsPerMsg / by[y].sourceInRunUsPerMsg, 2),
      smtpdUsPerMsg: round(by[x].smtpdUsPerMsg / by[y].smtpdUsPerMsg, 2),
    }));
  } finally {
    if (pf) await pf.stop().catch((e) => note(`stopping Postfix: ${e.message}`));
    rmSync(work, { recursive: true, force: true });
    tempDirs.delete(work);
  }
  finishMeta(meta, started);
  const file = writeResults('tls-postfix', started, a.out, { meta, ...out });
  process.stdout.write('\n' + textTable(HEAD, rows(out)));
  process.stdout.write('\n' + markdownTable(HEAD, rows(out)));
  for (const f of out.failures) process.stdout.write(`FAILURE ${f.mode}${f.warmup ? ' (warm-up)' : ''}: ${JSON.stringify(f.exit)} accepted ${f.accepted} ${f.stderr ?? ''}\n`);
  process.stdout.write(`elapsed ${meta.elapsedS} s, load ${meta.loadavgStart.join(' ')} -> ${meta.loadavgEnd.join(' ')}\nresults: ${file}\n`);
  if (out.failures.length > 0) process.exitCode = 1;
}

main().catch((e) => {
  process.stderr.write(`tls-postfix: ${e.stack ?? e}\n`);
  process.exit(1);
});
