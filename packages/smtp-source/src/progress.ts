// The progress bar (cli-progress) on stderr: messages done of the total, or seconds of the
// --duration, with the current rate.
import cliProgress from 'cli-progress';
import type { SourceRun } from './engine.js';

export function showProgress(run: SourceRun): () => void {
  const o = run.options;
  // --ramp/--stages end with their last stage, as --duration does.
  const scheduleMs = o.stages?.reduce((t, s) => t + s.durationMs, 0);
  const byTime = o.durationMs !== undefined || scheduleMs !== undefined;
  const bar = new cliProgress.SingleBar(
    {
      format: byTime
        ? 'smtp-source [{bar}] {value}/{total} s | {messages} msgs | {rate} msg/s | {errors} errors'
        : 'smtp-source [{bar}] {percentage}% | {value}/{total} msgs | {rate} msg/s | {errors} errors',
      stream: process.stderr,
      hideCursor: true,
      clearOnComplete: false,
      etaBuffer: 50,
    },
    cliProgress.Presets.shades_classic,
  );
  const total = byTime ? Math.ceil((o.durationMs ?? scheduleMs!) / 1000) : o.messages;
  const started = Date.now();
  bar.start(total, 0, { rate: '0', errors: 0, messages: 0 });
  const tick = (): void => {
    const c = run.counters;
    const done = c.messagesAccepted + c.messagesRejected + c.messagesFailed;
    const secs = (Date.now() - started) / 1000;
    bar.update(byTime ? Math.min(total, Math.floor(secs)) : done, {
      rate: secs > 0 ? (c.messagesAccepted / secs).toFixed(0) : '0',
      errors: c.messagesRejected + c.messagesFailed,
      messages: done,
    });
  };
  const timer = setInterval(tick, 200);
  return () => {
    clearInterval(timer);
    tick();
    bar.stop();
  };
}
