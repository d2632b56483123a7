// Kodo compatibility check with node-influx (npm "influx", pinned in
// package.json). Run by cmd/kodo's TestCompatClients against the built
// binary: KODO_HOST, KODO_PORT, KODO_DB, KODO_TOKEN. Exits non-zero on the
// first failed assertion.
'use strict';
const assert = require('assert');
const Influx = require('influx');

const env = (k) => {
  const v = process.env[k];
  if (!v) throw new Error(`${k} is not set`);
  return v;
};
const db = env('KODO_DB');
const influx = new Influx.InfluxDB({
  host: env('KODO_HOST'),
  port: Number(env('KODO_PORT')),
  database: db,
  username: 'node',
  password: env('KODO_TOKEN'),
});

async function main() {
  const pings = await influx.ping(5000);
  assert.ok(pings[0].online, 'ping');
  assert.strictEqual(pings[0].version, '1.8.10');

  // Telegraf-style create of the own database is a no-op; others are refused.
  await influx.createDatabase(db);
  await assert.rejects(influx.createDatabase('someone_elses'), /403|authoriz/);
  assert.deepStrictEqual(await influx.getDatabaseNames(), [db]);

  const t0 = new Date(Date.now() - 60 * 1000);
  t0.setMilliseconds(0);
  await influx.writePoints([
    { measurement: 'cpu', tags: { host: 'a' }, fields: { usage: 1.5, n: 1 }, timestamp: t0 },
    { measurement: 'cpu', tags: { host: 'b' }, fields: { usage: 2.0, n: 2 }, timestamp: t0 },
  ], { precision: 's' });

  const rows = await influx.query('SELECT usage FROM cpu WHERE host = $host', { placeholders: { host: 'a' } });
  assert.strictEqual(rows.length, 1, 'bound parameter');
  assert.strictEqual(rows[0].usage, 1.5);
  assert.strictEqual(rows[0].time.getTime(), t0.getTime());

  const grouped = await influx.query('SELECT sum(usage) AS s FROM cpu GROUP BY host');
  assert.deepStrictEqual(grouped.map((r) => [r.host, r.s]).sort(), [['a', 1.5], ['b', 2]]);

  const ms = await influx.getMeasurements();
  assert.deepStrictEqual(ms, ['cpu']);
  const tags = await influx.query('SHOW TAG VALUES FROM cpu WITH KEY = host');
  assert.deepStrictEqual(tags.map((r) => r.value), ['a', 'b']);

  // A retention policy made with InfluxQL takes writes and reads at once.
  await influx.createRetentionPolicy('nodecompat', { duration: '2h', replication: 1 });
  const rps = await influx.showRetentionPolicies();
  assert.ok(rps.some((r) => r.name === 'nodecompat' && r.duration === '2h0m0s'), 'new RP listed');
  await influx.writePoints([{ measurement: 'mem', fields: { used: 42 }, timestamp: t0 }],
    { precision: 's', retentionPolicy: 'nodecompat' });
  const inRP = await influx.query('SELECT used FROM mem', { retentionPolicy: 'nodecompat' });
  assert.strictEqual(inRP.length, 1, 'rp= on /query');
  assert.strictEqual(inRP[0].used, 42);
  await influx.dropRetentionPolicy('nodecompat');
  await assert.rejects(
    influx.writePoints([{ measurement: 'mem', fields: { used: 1 } }], { retentionPolicy: 'nodecompat' }),
    /retention policy not found/);

  // Several statements, SHOW DATABASES among them.
  const multi = await influx.query(['SHOW DATABASES', 'SELECT count(usage) FROM cpu']);
  assert.deepStrictEqual(multi[0].map((r) => r.name), [db]);
  assert.strictEqual(multi[1][0].count, 2);

  // influxd's parse error wording.
  await assert.rejects(influx.query('SELECT mean(usage FROM cpu'), /error parsing query: found FROM, expected \) at line 1, char 19/);
  console.log('node-influx: all checks passed');
}

main().catch((err) => {
  console.error('node-influx compat FAILED:', err && err.stack || err);
  process.exit(1);
});
