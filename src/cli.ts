#!/usr/bin/env node
// flowgate command line. Each command lives in src/commands/; this file only parses.

import { Command, InvalidArgumentError } from 'commander';
import { DEFAULT_CSV_FIELDS, parseProtocol, runDecode } from './commands/decode';
import { runGateway } from './commands/run';

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
      runGateway(o.config).catch((e: unknown) => {
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
