// Shared by the /proc parsers; internal (not exported from the package).

/** A non-negative integer counter, or null for anything else (a truncated or odd line). */
export function counter(text: string | undefined): number | null {
  if (text === undefined || !/^\d+$/.test(text)) return null;
  const n = Number(text);
  return Number.isSafeInteger(n) ? n : null;
}
