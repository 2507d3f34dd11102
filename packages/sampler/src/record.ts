// The sampled series as it is stored: written by `smtpstone-sample --json`, embedded as `system`
// in smtp-source's --json result, and read back by the reporter (`--samples`).
import { hostname } from 'node:os';
import type { SystemSample } from './rates.js';
import { defaultVerdictThresholds, verdict, type Verdict, type VerdictThresholds } from './verdict.js';

export interface SystemRecord {
  type: 'smtpstone-samples';
  version: 1;
  host: string;
  intervalMs: number;
  /** Epoch ms of the first sample's end, or null when none was taken. */
  startedAt: number | null;
  thresholds: VerdictThresholds;
  samples: SystemSample[];
  verdict: Verdict;
}

export function makeSystemRecord(
  samples: readonly SystemSample[],
  intervalMs: number,
  thresholds: Partial<VerdictThresholds> = {},
): SystemRecord {
  const t: VerdictThresholds = { ...defaultVerdictThresholds, ...thresholds };
  return {
    type: 'smtpstone-samples',
    version: 1,
    host: hostname(),
    intervalMs,
    startedAt: samples.length > 0 ? samples[0].epochMs : null,
    thresholds: t,
    samples: [...samples],
    verdict: verdict(samples, t),
  };
}

function isRecord(x: unknown): x is SystemRecord {
  const r = x as Partial<SystemRecord> | null;
  return typeof r === 'object' && r !== null && r.type === 'smtpstone-samples' && Array.isArray(r.samples);
}

/**
 * Finds the system record in a parsed JSON document: a samples file itself, or any result that
 * carries one as `system` (smtp-source --json). Throws a one-line error naming what was found.
 */
export function systemRecordOf(doc: unknown, what = 'the file'): SystemRecord {
  if (isRecord(doc)) return doc;
  const inner = (doc as { system?: unknown } | null)?.system;
  if (isRecord(inner)) return inner;
  throw new Error(`${what} holds no samples (want smtpstone-sample --json or smtp-source --json --sample output)`);
}
