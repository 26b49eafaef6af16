// Benchmark runner: `npm run bench` runs every benchmark, `npm run bench -- decode` only the
// named ones, `npm run bench -- --list` lists them. Not a test: it prints figures, it does not
// judge them.
//
// Output: the machine, progress lines, then one table of all measurements and one JSON line
// per measurement ({"bench":...}), for tooling to pick up with e.g. `grep '^{"bench"'`.
//
// Settings (environment): BENCH_SECONDS timed seconds per measurement (default 3),
// BENCH_WARMUP_SECONDS (default 1), BENCH_ISOLATE=0 to run everything in this process,
// BENCH_PROTOCOLS=netflow9,ipfix and BENCH_MODES=decode+encode to limit the decode bench.
// The end-to-end bench (`npm run bench -- e2e`, several minutes) has its own BENCH_E2E_*
// settings, listed at the top of bench/e2e-bench.ts (e.g. BENCH_E2E_PATHS=embedded).
//
// To add a benchmark (end-to-end UDP, Kafka, ...): implement `Bench` from ./report in its own
// bench/*.ts file and append it to BENCHES.

import { decodeBench } from './decode-bench';
import { csvBench } from './csv-bench';
import { platformBench } from './platform-bench';
import { netflow9Bench } from './netflow9-bench';
import { nemeaBench } from './nemea-bench';
import { dumpBench } from './dump-bench';
import { e2eBench } from './e2e-bench';
import { formatMachine, formatTable, jsonLine, machineInfo, settingsFromEnv, type Bench, type Measurement } from './report';

const BENCHES: readonly Bench[] = [decodeBench, e2eBench, dumpBench, csvBench, netflow9Bench, nemeaBench, platformBench];

async function main(argv: readonly string[]): Promise<number> {
  if (argv.includes('--list') || argv.includes('-l')) {
    for (const b of BENCHES) console.log(`${b.name.padEnd(12)} ${b.description}`);
    return 0;
  }
  const unknown = argv.filter((a) => !BENCHES.some((b) => b.name === a));
  if (unknown.length > 0) {
    console.error(`unknown benchmark(s): ${unknown.join(', ')}; available: ${BENCHES.map((b) => b.name).join(', ')}`);
    return 2;
  }
  const selected = argv.length === 0 ? BENCHES : BENCHES.filter((b) => argv.includes(b.name));
  const settings = settingsFromEnv();
  const machine = machineInfo();
  console.log(formatMachine(machine));
  console.log(
    `settings: ${settings.seconds} s timed + ${settings.warmupSeconds} s warm-up per measurement, ` +
      `${settings.isolate ? 'one process per sub-benchmark' : 'one process'}`,
  );
  const results: Measurement[] = [];
  for (const b of selected) {
    console.log(`\n== ${b.name}: ${b.description}`);
    results.push(...(await b.run(settings, machine, (line) => console.log(line))));
  }
  console.log('');
  console.log(formatTable(results));
  console.log('');
  for (const m of results) console.log(jsonLine(m));
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    console.error(err instanceof Error ? err.stack ?? err.message : String(err));
    process.exitCode = 1;
  },
);
