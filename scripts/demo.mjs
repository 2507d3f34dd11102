#!/usr/bin/env node
// The main job on loopback: start smtp-sink, push a load through it, report what happened.
// The load comes from Postfix's smtp-source when it is installed, otherwise from
// nodemailer's pooled SMTP transport, so the demo runs on a machine with only Node.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { startSink } from '@smtpstone/smtp-sink';

const require = createRequire(new URL('../packages/smtp-sink/package.json', import.meta.url));
const MESSAGES = Number(process.env.DEMO_MESSAGES ?? 20000);
const SESSIONS = 20;

const sink = await startSink({ listen: '127.0.0.1:0', writeLog: (l) => process.stderr.write(l) });
const port = sink.address.port;
console.log(`smtp-sink listening on 127.0.0.1:${port}`);

const cSource = process.env.DEMO_CLIENT === 'nodemailer' ? undefined : ['/usr/sbin/smtp-source', '/usr/bin/smtp-source'].find((p) => existsSync(p));
const started = process.hrtime.bigint();
let client;
if (cSource) {
  client = `Postfix smtp-source (${cSource}) -s ${SESSIONS} -l 5120 -m ${MESSAGES} -d`;
  console.log(`load: ${client}`);
  // Run it asynchronously: the sink lives in this process and must keep serving.
  const { spawn } = await import('node:child_process');
  const child = spawn(cSource, ['-s', String(SESSIONS), '-l', '5120', '-m', String(MESSAGES), '-d', `127.0.0.1:${port}`], { stdio: 'inherit' });
  const code = await new Promise((resolve) => child.on('close', resolve));
  if (code !== 0) console.error(`smtp-source exited ${code}`);
} else {
  const nodemailer = require('nodemailer');
  const count = Math.min(MESSAGES, 2000);
  client = `nodemailer pooled SMTP, ${SESSIONS} connections, ${count} messages of 5 KB (install postfix for smtp-source)`;
  console.log(`load: ${client}`);
  const transport = nodemailer.createTransport({ host: '127.0.0.1', port, pool: true, maxConnections: SESSIONS, maxMessages: Infinity, ignoreTLS: true });
  const text = 'La de da de da.\n'.repeat(320);
  let next = 0;
  await Promise.all(
    Array.from({ length: SESSIONS }, async () => {
      while (next < count) {
        next++;
        await transport.sendMail({ from: 'demo@example.com', to: 'sink@example.com', subject: 'smtpstone demo', text });
      }
    }),
  );
  transport.close();
}
const seconds = Number(process.hrtime.bigint() - started) / 1e9;
await new Promise((r) => setTimeout(r, 100));
const s = await sink.close(1000);

const rejects = Object.values(s.rejects).reduce((a, b) => a + b, 0);
console.log('\nsmtpstone demo report');
console.log('---------------------');
console.log(`client        ${client}`);
console.log(`messages      ${s.messages} accepted by the sink in ${seconds.toFixed(2)} s = ${(s.messages / seconds).toFixed(0)} msg/s`);
console.log(`recipients    ${s.recipients}`);
console.log(`bytes         ${s.bytes} (${(s.bytes / seconds / 1e6).toFixed(1)} MB/s)`);
console.log(`sessions      ${s.sessions} (peak waiting for a slot: ${s.peakWaiting})`);
console.log(`rejects       ${rejects}; timeouts ${s.timeouts}; lost in DATA ${s.lostInData}`);
console.log(`commands      ${Object.entries(s.commands).filter(([, n]) => n > 0).map(([k, n]) => `${k}=${n}`).join(' ')}`);
process.exit(s.messages > 0 ? 0 : 1);
