// Hosts and tags repeat on every line: look them up instead of slicing and splitting each
// time. Records then share one string per host and tag, which also keeps memory down when a
// consumer holds many records.

/** A syslog tag split the Postfix way (reporter-notes.md section 2). */
export interface TagInfo {
  tag: string;
  /** Before the first '/'. */
  instance: string;
  /** Between the first and the last '/', or ''. */
  service: string;
  /** After the last '/'. */
  program: string;
  /** syslog_name/process shape: names of [A-Za-z0-9._-] joined by '/'. */
  postfix: boolean;
}

/**
 * Postfix's tag is always syslog_name/process. Anything else is another program (dovecot,
 * or its `lmtp(user)<pid><session/id>` whose session id may hold a '/').
 */
function isPostfixTag(tag: string): boolean {
  return /^[\w.-]+(?:\/[\w.-]+)+$/.test(tag);
}

function splitTag(tag: string): TagInfo {
  const first = tag.indexOf('/');
  const last = tag.lastIndexOf('/');
  return {
    tag,
    instance: first < 0 ? '' : tag.slice(0, first),
    service: first === last ? '' : tag.slice(first + 1, last),
    program: tag.slice(last + 1),
    postfix: isPostfixTag(tag),
  };
}

const SLOTS = 64;
const EMPTY = splitTag('');

export class Names {
  private lastHost = '';
  // Direct-mapped by a cheap hash of the tag's text, checked with startsWith: no slice and
  // no Map hashing per line. A collision only costs a fresh split.
  private readonly slots: TagInfo[] = new Array<TagInfo>(SLOTS).fill(EMPTY);

  /** s[start, end) as a string, the previous one when equal. */
  host(s: string, start: number, end: number): string {
    const h = this.lastHost;
    if (end - start === h.length && s.startsWith(h, start)) return h;
    return (this.lastHost = s.slice(start, end));
  }

  /** The tag s[start, end), split. */
  tagAt(s: string, start: number, end: number): TagInfo {
    const n = end - start;
    if (n === 0) return EMPTY;
    const slot = (n * 7 + s.charCodeAt(end - 1) * 3 + s.charCodeAt(end - 2) + s.charCodeAt(start)) & (SLOTS - 1);
    const info = this.slots[slot];
    if (info.tag.length === n && s.startsWith(info.tag, start)) return info;
    return (this.slots[slot] = splitTag(s.slice(start, end)));
  }

  /** The same for a tag already cut out. */
  tag(tag: string): TagInfo {
    return this.tagAt(tag, 0, tag.length);
  }
}
