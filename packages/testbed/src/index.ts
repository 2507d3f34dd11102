// @smtpstone/testbed: real peers on loopback for the tests, the demo and benchmarks. A private
// Postfix and a private Dovecot LMTP, each in a fresh temporary directory on ports the system
// picks, a wire recorder to put between a client and a peer, a small maillog reading for tests,
// and the process and network tools they are built from. Private: not published.
export { LOOPBACK, freePort, waitForBanner } from './net.js';
export { alive, exec, waitUntil, type ExecResult } from './process.js';
export { privateDir } from './files.js';
export { postfixAvailable, postfixMissing, QUICK_RELAY_SETTINGS, startPrivatePostfix, type PostfixSetup, type PrivatePostfix } from './postfix.js';
export { dovecotAvailable, startPrivateDovecotAuth, startPrivateDovecotLmtp, type PrivateDovecot, type PrivateDovecotAuth } from './dovecot.js';
export { LONG_QUEUE_ID, messagesByQueueId, parseMaillog, type Delivery, type LoggedMessage, type MaillogRecord } from './maillog-lite.js';
export { wireRecorder, type WireRecorder } from './wire-recorder.js';
export { makeTestCerts, type TestCerts, type TestCertsOptions } from './certs.js';
