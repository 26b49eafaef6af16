#!/usr/bin/env node
// flowgate command line. Each command lives in src/commands/; this file only parses.

import { Command, InvalidArgumentError } from 'commander';
import { DEFAULT_CSV_FIELDS, parseProtocol, runDecode } from './commands/decode';

function main(argv: string[]): void {
  const program = new Command();
  program
    .name('flowgate')
    .description('Flow-telemetry gateway: NetFlow v5/v9, IPFIX and sFlow v5 in, canonical protobuf out')
    .version(require('../../package.json').version as string);

  program
    .command('decode')
    .description('decode every UDP payload of a pcap/pcapng file as flow datagrams; one line per flow record')
    .argument('<file>', 'capture file (pcap or pcapng)')
    .option('-f, --format <format>', 'jsonl or csv', (v) => {
      if (v !== 'jsonl' && v !== 'csv') throw new InvalidArgumentError('use jsonl or csv');
      return v;
    }, 'jsonl')
    .option('--fields <list>', `CSV columns (comma-separated canonical names; default ${DEFAULT_CSV_FIELDS.join(',')})`)
    .option('-p, --protocol <protocol>', 'auto (by version field), netflow5, netflow9, ipfix or sflow', (v) => {
      try {
        return parseProtocol(v);
      } catch (e) {
        throw new InvalidArgumentError((e as Error).message);
      }
    }, 'auto')
    .option('--counters <target>', "where sFlow counter samples go as JSON lines: '-' (stderr), 'none' or a file", '-')
    .option('--summary <target>', "where the end-of-file summary goes: '-' (stderr), 'none' or a file", '-')
    .option('-v, --verbose', 'print every decode error with its detail on stderr', false)
    .option('--compact', 'JSON lines: leave out fields at their default (0, empty)', false)
    .action((file: string, o: { format: 'jsonl' | 'csv'; fields?: string; protocol: ReturnType<typeof parseProtocol>; counters: string; summary: string; verbose: boolean; compact: boolean }) => {
      runDecode(file, {
        format: o.format,
        fields: o.fields ? o.fields.split(',').map((s) => s.trim()).filter(Boolean) : undefined,
        protocol: o.protocol,
        counters: o.counters,
        summary: o.summary,
        verbose: o.verbose,
        compact: o.compact,
      });
    });

  program
    .command('check-config')
    .description('validate a configuration file as `run` would (environment included); exit 0 valid, 2 invalid, 1 unreadable')
    .argument('[file]', 'configuration file (same as -c)')
    .option('-c, --config <file>', 'configuration file (default: config.yaml)')
    .allowExcessArguments(false)
    .action((file: string | undefined, o: { config?: string }) => {
      if (file && o.config && file !== o.config) throw new InvalidArgumentError(`two files given (${o.config} and ${file}); give one`);
      // Loaded on use, like replay: the other commands need none of the config checker.
      import('./commands/check-config').then((m) => {
        process.exitCode = m.runCheckConfig(o.config ?? file ?? 'config.yaml');
      }, (e: unknown) => {
        process.stderr.write(`flowgate: ${e instanceof Error ? e.message : String(e)}\n`);
        process.exitCode = 1;
      });
    });

  program
    .command('run')
    .description('run the gateway: UDP listeners → decoder → canonical records on the bus')
    .option('-c, --config <file>', 'configuration file', 'config.yaml')
    .action((o: { config: string }) => {
      // Loaded on use: the gateway's modules (Kafka, metrics, ...) cost every other command ~0.25 s.
      (require('./commands/run') as typeof import('./commands/run')).runGateway(o.config).catch((e: unknown) => {
        process.stderr.write(`flowgate: ${e instanceof Error ? e.message : String(e)}\n`);
        process.exit(1);
      });
    });

  program
    .command('replay')
    .description("send a capture's flow datagrams to a gateway, one UDP socket per original exporter; summary JSON on stderr")
    .argument('<file>', 'capture file (pcap or pcapng)')
    .requiredOption('--to <host:port>', 'where to send: 127.0.0.1:2055, [::1]:2055 or host:2055')
    .option('--rate <n>', 'datagrams per second over all exporters: 5000, 5000/s, 5k, 1M (default: as fast as the socket takes them)')
    .option('--timing <mode>', 'asap, or original to reproduce the capture inter-arrival times', 'asap')
    .option('--speed <x>', 'with --timing original: replay x times faster')
    .option('--loop <n>', 'passes over the capture; 0 = until Ctrl-C', '1')
    .option('--rewrite-sequence', 'keep header sequence numbers continuous across loops (default when --loop is not 1)')
    .option('--no-rewrite-sequence', 'send sequence numbers exactly as captured in every loop')
    .option('--retime', 'set header export times (v5/v9 unix secs, IPFIX export time) to the send time', false)
    .option('--port <n>', 'replay only datagrams originally sent to this UDP port')
    .option('--max-exporters <n>', 'refuse captures with more original exporters (each needs a socket)', '1024')
    .option('--progress', 'print a progress line every 5 s when stderr is a terminal', false)
    .action((file: string, o: import('./commands/replay').ReplayCommandOptions) => {
      // Loaded on use: the other commands need none of the replay modules.
      import('./commands/replay')
        .then((m) => m.runReplay(file, o))
        .then((code) => {
          process.exitCode = code;
        }, (e: unknown) => {
          process.stderr.write(`flowgate: ${e instanceof Error ? e.message : String(e)}\n`);
          process.exitCode = 1;
        });
    });

  program
    .command('dump')
    .description('write the records of a Kafka flow topic whose message timestamps t satisfy FROM <= t < TO as CSV; stops at the end of the window')
    .option('-c, --config <file>', "take Kafka brokers, SASL, TLS and the topic from this config file's kafka section (secrets from the environment or files, as for run)")
    .option('--brokers <list>', 'Kafka bootstrap brokers host:port[,host:port...] (default: the config\'s, else $FLOWGATE_KAFKA_BROKERS)')
    .option('--topic <name>', 'flow topic (canonical FlowMessages, raw or delimited; default with -c: kafka.topic)')
    .requiredOption('--from <time>', 'window start, inclusive: ISO 8601 (UTC unless an offset is given) or epoch milliseconds')
    .requiredOption('--to <time>', 'window end, exclusive: ISO 8601 or epoch milliseconds')
    .option('--fields <list>', `CSV columns (default ${DEFAULT_CSV_FIELDS.join(',')})`)
    .option('--time-format <format>', 'iso, epoch_ms or epoch_ns', 'iso')
    .option('--protocol-names', 'proto column as a name (tcp, udp, ...)', false)
    .option('--out <file>', 'write to FILE (via FILE.tmp, renamed when complete) instead of stdout')
    .option('--filter <expr>', 'keep records where FIELD OP VALUE holds (= != > < >= <=; addr, port, CIDR, proto=tcp); repeat to AND', (v: string, acc: string[]) => [...acc, v], [] as string[])
    .option('--skew-ms <ms>', 'read on past --to by this much: CreateTime is not monotonic within a partition', '60000')
    .option('--timeout-ms <ms>', 'give up when Kafka does not answer (connect, metadata, offsets) within this time', '10000')
    .option('--reader <kind>', 'fetch (direct fetch requests) or group (kafkajs consumer group; +3 s group join)', 'fetch')
    .option('--no-progress', 'no progress bar (it is drawn only when stderr is a terminal anyway)')
    .option('-q, --quiet', 'no progress bar, notes or summary line on stderr; errors only', false)
    .option('-v, --verbose', "kafkajs' own warnings and errors on stderr", false)
    .allowExcessArguments(false)
    // Usage errors are exit 2 (commander's default is 1); help stays 0.
    .exitOverride((e) => process.exit(e.exitCode === 0 ? 0 : 2))
    .action((o: import('./commands/dump').DumpCommandOptions) => {
      // Loaded on use: the other commands need none of the dump modules.
      import('./commands/dump')
        .then((m) => m.runDumpCommand(o))
        .then((code) => {
          // Exit explicitly: kafkajs may still hold timers of a connection that timed out.
          process.exitCode = code;
          process.stderr.write('', () => process.stdout.write('', () => process.exit(code)));
        }, (e: unknown) => {
          process.stderr.write(`flowgate: ${e instanceof Error ? e.message : String(e)}\n`);
          process.exit(1);
        });
    });

  program.parse(argv);
}

process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(0); // `flowgate decode x | head` is normal use
  throw e;
});

try {
  main(process.argv);
} catch (e) {
  process.stderr.write(`flowgate: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
}
