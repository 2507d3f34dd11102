#!/usr/bin/env node
// One entry point for the README's two commands on a machine that has only Node:
// bring pnpm up through corepack (npm as the fallback), install, build, then run the job.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const job = process.argv[2];
const jobs = {
  test: ['exec', 'vitest', 'run', ...process.argv.slice(3)],
  demo: ['exec', 'node', 'scripts/demo.mjs', ...process.argv.slice(3)],
};
if (!jobs[job]) {
  console.error(`bootstrap: unknown job "${job}" (use: ${Object.keys(jobs).join(', ')})`);
  process.exit(2);
}

// corepack's bundled signing keys lag behind the registry's, so verification fails on
// Node 20.x for current pnpm releases; the version is still pinned in package.json.
const env = { ...process.env, COREPACK_ENABLE_DOWNLOAD_PROMPT: '0', COREPACK_INTEGRITY_KEYS: '0' };
const pinned = JSON.parse((await import('node:fs')).readFileSync(join(root, 'package.json'), 'utf8')).packageManager;

function pnpmCommand() {
  if (spawnSync('corepack', ['pnpm', '--version'], { env, cwd: root, stdio: 'ignore' }).status === 0) {
    return ['corepack', ['pnpm']];
  }
  return ['npx', ['--yes', pinned]];
}

const [cmd, prefix] = pnpmCommand();
function pnpm(args) {
  const r = spawnSync(cmd, [...prefix, ...args], { env, cwd: root, stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}

pnpm(['install', '--reporter=append-only']);
pnpm(['run', 'build']);
pnpm(jobs[job]);
