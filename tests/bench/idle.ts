/**
 * `bun run bench idle [--json] [--seconds 20] [--settle 10]`: what the shop costs while nothing happens — its six
 * processes (`_shop.ts`) up on a private Redis, no order placed. After `--settle` seconds (startup and its JIT work
 * done), prints for `--seconds` each process's CPU (ms a second, all its threads) and its main thread's wake-ups a
 * second (voluntary context switches: each is the event loop going to sleep and being woken), and Redis's CPU. At a
 * low rate this is paid per order too: 50 orders a second divide it by 50.
 */
import { RedisClient } from 'bun';
import { benchRedis, numberFlag } from './_kit.ts';
import { SHOP, startBenchShop, type ShopName } from './_shop.ts';

const json = process.argv.includes('--json');
const SECONDS = numberFlag('seconds', 20);
const SETTLE_S = numberFlag('settle', 10);

async function redisCpuMs(client: RedisClient): Promise<number> {
  const info = String(await client.send('INFO', ['cpu']));
  return (Number(/used_cpu_user:([\d.]+)/.exec(info)?.[1] ?? NaN) + Number(/used_cpu_sys:([\d.]+)/.exec(info)?.[1] ?? NaN)) * 1000;
}

const redis = await benchRedis();
const shop = await startBenchShop({ redis: redis.url, prefix: `bench-idle-${process.pid}` });
const client = new RedisClient(redis.url);
await client.connect();
try {
  await Bun.sleep(SETTLE_S * 1000);
  const cpu0 = shop.cpuMs();
  const wakes0 = shop.wakeUps();
  const redis0 = await redisCpuMs(client);
  await Bun.sleep(SECONDS * 1000);
  const cpu1 = shop.cpuMs();
  const wakes1 = shop.wakeUps();
  const redis1 = await redisCpuMs(client);
  const rows = SHOP.map((name: ShopName) => ({
    name,
    cpuMsPerS: (cpu1[name] - cpu0[name]) / SECONDS,
    wakesPerS: (wakes1[name] - wakes0[name]) / SECONDS,
  }));
  const total = rows.reduce((sum, r) => sum + r.cpuMsPerS, 0);
  const redisMsPerS = (redis1 - redis0) / SECONDS;
  console.log(`idle: the shop's six processes on a private Redis, no orders; ${SECONDS} s measured after ${SETTLE_S} s settling`);
  console.log('process       CPU ms/s   wake-ups/s');
  for (const r of rows) console.log(`${r.name.padEnd(12)}${r.cpuMsPerS.toFixed(1).padStart(10)}${r.wakesPerS.toFixed(0).padStart(13)}`);
  console.log(`${'redis'.padEnd(12)}${redisMsPerS.toFixed(1).padStart(10)}`);
  console.log(`all         ${(total + redisMsPerS).toFixed(1).padStart(10)}   (at 50 orders/s: ${((total + redisMsPerS) / 50).toFixed(2)} ms of CPU per order)`);
  if (json) console.log(JSON.stringify({ name: 'idle', seconds: SECONDS, processes: Object.fromEntries(rows.map((r) => [r.name, { cpuMsPerS: r.cpuMsPerS, wakesPerS: r.wakesPerS }])), redisCpuMsPerS: redisMsPerS, totalCpuMsPerS: total + redisMsPerS }));
} finally {
  client.close();
  await shop.stop();
  await redis.stop();
}
process.exit(0);
