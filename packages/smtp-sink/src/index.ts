export { startSink, type Sink } from './server.js';
export { resolveSinkOptions, defaultSinkOptions, type SinkOptions, type SinkOptionsInput } from './options.js';
export { counterLine, statsLine, type SinkStats } from './stats.js';
export { COMMAND_NAMES, parseCommandList, parseCommandDelay, type CommandName, type CommandDelay } from './commands.js';
export { REPLY, ehloReply } from './replies.js';
export { serveSinkMetrics, sinkMetricsRegistry, parseMetricsListen, type MetricsServer, type MetricsListen } from './metrics.js';
export { AUTH_MECHANISMS, AUTH_REPLY, DEFAULT_AUTH_MECHANISMS, parseMechanisms, parseUsers, type AuthMechanism, type AuthSettings } from './auth.js';
export { TLS_REPLY } from './tls.js';
