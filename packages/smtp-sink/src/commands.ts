// The commands smtp-sink knows, how a command line's verb is matched without allocating,
// and the per-command fault settings (-f -q -Q -r -s -w -W) that the C sink keeps as flags.

/** Command names as the fault options spell them; "connect" is the banner, "." end of data. */
export const COMMAND_NAMES = [
  'connect', 'helo', 'ehlo', 'lhlo', 'xclient', 'xforward', 'auth',
  'mail', 'rcpt', 'data', '.', 'rset', 'noop', 'vrfy', 'quit', 'starttls', 'bdat',
] as const;

export type CommandName = (typeof COMMAND_NAMES)[number];

export const enum Cmd {
  Connect, Helo, Ehlo, Lhlo, Xclient, Xforward, Auth, Mail, Rcpt, Data, Dot, Rset, Noop, Vrfy, Quit, Starttls, Bdat,
  Unknown = -1,
  Empty = -2,
}

export function commandIndex(name: string): Cmd {
  const i = (COMMAND_NAMES as readonly string[]).indexOf(name.toLowerCase());
  return i < 0 ? Cmd.Unknown : (i as Cmd);
}

// Verbs as upper-case bytes, for matching a received line in place.
const VERB_BYTES = COMMAND_NAMES.map((n) => Buffer.from(n.toUpperCase(), 'latin1'));

const SPACE = 0x20;
const TAB = 0x09;

export interface ParsedVerb {
  cmd: Cmd;
  verbStart: number;
  verbEnd: number;
  /** Where the arguments start: after the verb and the one separator that follows it. */
  argsStart: number;
}

/**
 * Finds the verb of line[start, end) (leading blanks skipped, verb ended by a blank) and
 * matches it against the command table, case-insensitively. "connect" is not a verb a
 * client may type, so it never matches.
 */
export function matchVerb(line: Uint8Array, start: number, end: number, out: ParsedVerb): void {
  let s = start;
  while (s < end && (line[s] === SPACE || line[s] === TAB)) s++;
  let e = s;
  while (e < end && line[e] !== SPACE && line[e] !== TAB) e++;
  out.verbStart = s;
  out.verbEnd = e;
  out.argsStart = e < end ? e + 1 : end;
  if (e === s) {
    out.cmd = Cmd.Empty;
    return;
  }
  const len = e - s;
  for (let c = Cmd.Helo; c <= Cmd.Bdat; c++) {
    const verb = VERB_BYTES[c];
    if (verb.length !== len) continue;
    let same = true;
    for (let i = 0; i < len; i++) {
      let b = line[s + i];
      if (b >= 0x61 && b <= 0x7a) b -= 0x20;
      if (b !== verb[i]) {
        same = false;
        break;
      }
    }
    if (same) {
      out.cmd = c;
      return;
    }
  }
  out.cmd = Cmd.Unknown;
}

/** A reply delay for one command (-w, -W cmd:delay[:odds]). */
export interface CommandDelay {
  command: CommandName;
  seconds: number;
  /** 0-99: the delay is seconds x (number of consecutive rolls below odds); may be 0. */
  odds?: number;
}

/** What the fault options ask of each command, indexed by Cmd. */
export interface CommandFaults {
  hardReject: boolean[];
  softReject: boolean[];
  disconnect: boolean[];
  close: boolean[];
  log: boolean[];
  delay: (CommandDelay | undefined)[];
}

export function noFaults(): CommandFaults {
  const none = (): boolean[] => COMMAND_NAMES.map(() => false);
  return {
    hardReject: none(),
    softReject: none(),
    disconnect: none(),
    close: none(),
    log: none(),
    delay: COMMAND_NAMES.map(() => undefined),
  };
}

export class CommandListError extends Error {}

/** Splits a command list as the C sink does (separators ", \t\r\n") and checks each name. */
export function parseCommandList(list: string): CommandName[] {
  const names = list.split(/[, \t\r\n]+/).filter((n) => n !== '');
  return names.map((n) => {
    const lower = n.toLowerCase();
    if (!(COMMAND_NAMES as readonly string[]).includes(lower)) throw new CommandListError(`unknown command: ${n}`);
    return lower as CommandName;
  });
}

/** Parses "-W cmd:delay[:odds]" with the C sink's error texts. */
export function parseCommandDelay(spec: string): CommandDelay {
  const parts = spec.split(':');
  if (parts.length < 2 || parts.length > 3 || parts[1] === '') {
    throw new CommandListError(`invalid command delay argument: ${spec}`);
  }
  const [name, delayText, oddsText] = parts;
  const [command] = parseCommandList(name);
  if (command === undefined) throw new CommandListError(`invalid command delay argument: ${spec}`);
  if (!/^\d+$/.test(delayText) || Number(delayText) <= 0) throw new CommandListError(`non-positive '${name}' delay`);
  const delay: CommandDelay = { command, seconds: Number(delayText) };
  if (oddsText !== undefined) {
    const odds = Number(oddsText);
    if (!/^\d+$/.test(oddsText) || odds > 99) {
      throw new CommandListError(`delay odds for '${name}' out of range`);
    }
    delay.odds = odds;
  }
  return delay;
}

/**
 * How long this occurrence of a delayed command waits. With odds, each roll below the odds
 * adds one more delay unit, so the wait follows a geometric distribution and can be 0.
 */
export function delaySeconds(d: CommandDelay, random: () => number = Math.random): number {
  if (d.odds === undefined) return d.seconds;
  let units = 0;
  while (Math.floor(random() * 100) < d.odds) units++;
  return d.seconds * units;
}
