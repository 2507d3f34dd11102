import { describe, expect, it } from 'vitest';
import * as core from '../src/index.js';

describe('the package entry point', () => {
  it('re-exports every module', () => {
    const names = [
      // endpoint
      'parseListenEndpoint', 'parseConnectEndpoint', 'formatEndpoint', 'EndpointError', 'UNIX_PATH_MAX',
      // end-of-data
      'EndOfDataScanner', 'nextTerminatorState', 'DATA_START_STATE',
      // dot-stuff
      'dotStuff', 'dotUnstuff', 'countLinesNeedingStuffing',
      // reply-parser
      'ReplyParser',
      // printable
      'printable', 'printableString',
      // unescape
      'unescapeC',
      // strftime
      'strftime', 'mailDate', 'zoneAbbreviation', 'zoneOffset', 'SecondCache',
      // diagnostics
      'Diagnostics', 'FatalError', 'strerror', 'openFileLimit',
      // rate
      'perSecond', 'parseDuration',
      // output
      'writeOutput',
    ];
    for (const name of names) expect(core, name).toHaveProperty(name);
    expect(Object.keys(core).sort()).toEqual([...names].sort());
  });
});
