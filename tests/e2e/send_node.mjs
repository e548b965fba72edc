// Send real @sentry/node traffic to Faultline and record what the SDK returned.
//
// Usage: node send_node.mjs DSN OUT.json   (run from a directory whose node_modules has @sentry/node)
//
// Sends, with release node-app@1.0.0 and environment e2e: an exception (captureException), a message
// (captureMessage), and a transaction with a child span (startSpan), then flushes. @sentry/node puts
// the key in the query string (?sentry_key=…); every response its transport gets is recorded.
import { writeFileSync } from 'node:fs';
import * as Sentry from '@sentry/node';

const [dsn, out] = process.argv.slice(2);
const wire = [];
const transactions = [];

function recordingTransport(options) {
  const inner = Sentry.makeNodeTransport(options);
  return {
    async send(envelope) {
      const items = envelope[1].map((item) => item[0].type);
      const sessions = envelope[1].filter((item) => item[0].type === 'session' || item[0].type === 'sessions').map((item) => item[1]);
      try {
        const response = await inner.send(envelope);
        wire.push({ status: response.statusCode ?? null, items, sessions });
        return response;
      } catch (err) {
        wire.push({ status: null, items, error: String(err) });
        throw err;
      }
    },
    flush: (timeout) => inner.flush(timeout),
  };
}

Sentry.init({
  dsn,
  release: 'node-app@1.0.0',
  environment: 'e2e',
  tracesSampleRate: 1.0,
  transport: recordingTransport,
  sendClientReports: false,
  beforeSendTransaction(event) {
    transactions.push(event.event_id);
    return event;
  },
});
Sentry.setUser({ id: 'node-user-1', email: 'grace@example.com' });
Sentry.setTag('sdk_under_test', 'node');

function parseConfig(text) {
  return JSON.parse(text);
}

const events = {};
try {
  parseConfig('{not json');
} catch (err) {
  events.exception = Sentry.captureException(err);
}
events.message = Sentry.captureMessage('e2e node message', 'info');

await Sentry.startSpan({ name: 'e2e-node-task', op: 'task' }, async () => {
  await Sentry.startSpan({ name: 'compute', op: 'function' }, async () => {
    await new Promise((resolve) => setTimeout(resolve, 20));
  });
});

const flushed = await Sentry.flush(5000);
const result = { sdk: `@sentry/node ${Sentry.SDK_VERSION}`, release: 'node-app@1.0.0', events, transactions, wire, flushed };
writeFileSync(out, JSON.stringify(result, null, 2));

console.log(`@sentry/node ${Sentry.SDK_VERSION}: event ids ${JSON.stringify(events)}; transactions ${JSON.stringify(transactions)}; flushed=${flushed}`);
for (const request of wire) {
  console.log(`  POST envelope ${JSON.stringify(request.items)} -> HTTP ${request.status}${request.error ? ' ' + request.error : ''}`);
  for (const s of request.sessions) console.log(`      session: init=${s.init}, status=${s.status}, errors=${s.errors}, attrs=${JSON.stringify(s.attrs)}`);
}
// @sentry/node ends its session when the process is about to exit; show what it sends then.
const reported = wire.length;
process.on('exit', () => {
  for (const request of wire.slice(reported)) {
    console.log(`  (at exit) POST envelope ${JSON.stringify(request.items)} -> HTTP ${request.status}`);
    for (const s of request.sessions) console.log(`      session: init=${s.init}, status=${s.status}, errors=${s.errors}`);
  }
});
const bad = wire.filter((r) => r.status !== 200);
const sent = wire.flatMap((r) => r.items);
const count = (type) => sent.filter((t) => t === type).length;
if (!flushed || bad.length || !events.exception || !events.message || transactions.length === 0 || count('event') !== 2 || count('transaction') !== 1) {
  console.error(`node sender: flushed=${flushed}, non-200 responses ${JSON.stringify(bad)}, items sent ${JSON.stringify(sent)} (expected 2 events, 1 transaction)`);
  process.exit(1);
}
