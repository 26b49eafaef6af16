import { expect } from 'chai';
import { createLogger, type Logger, type LogLevel } from '../../src/log/logger';
import { BAD_INPUT_MSG, RateLimitedLog, SUPPRESSED_MSG } from '../../src/log/rate-limited';

type Line = Record<string, unknown>;

/** A logger writing into an array, one parsed JSON object per line (and checking it is one line). */
function capture(level: LogLevel = 'info'): { log: Logger; lines: Line[] } {
  const lines: Line[] = [];
  const log = createLogger({
    level,
    destination: {
      write(chunk: string): void {
        expect(chunk.endsWith('\n')).to.equal(true);
        expect(chunk.indexOf('\n')).to.equal(chunk.length - 1);
        lines.push(JSON.parse(chunk) as Line);
      },
    },
  });
  return { log, lines };
}

class FakeClock {
  t = 1_700_000_000_000;
  readonly now = (): number => this.t;
  advance(ms: number): void {
    this.t += ms;
  }
}

describe('createLogger', () => {
  it('writes one JSON object per line with level name, ISO time, pid, fields and msg', () => {
    const { log, lines } = capture();
    log.info({ listener: '0.0.0.0:2055', protocol: 'auto' }, 'listening');
    expect(lines).to.have.length(1);
    const l = lines[0];
    expect(l.level).to.equal('info');
    expect(l.msg).to.equal('listening');
    expect(l.listener).to.equal('0.0.0.0:2055');
    expect(l.protocol).to.equal('auto');
    expect(l.pid).to.equal(process.pid);
    expect(l.time).to.be.a('string');
    expect(new Date(l.time as string).toISOString()).to.equal(l.time);
  });

  it('filters by level', () => {
    const { log, lines } = capture('warn');
    log.debug('no');
    log.info('no');
    log.warn('yes');
    log.error({ err: 'x' }, 'yes too');
    expect(lines.map((l) => [l.level, l.msg])).to.deep.equal([['warn', 'yes'], ['error', 'yes too']]);
  });

  it('escapes hostile text instead of breaking the line', () => {
    const { log, lines } = capture();
    log.warn({ detail: 'a\n{"level":"fatal"}\u0000' }, 'bad input');
    expect(lines).to.have.length(1);
    expect(lines[0].detail).to.equal('a\n{"level":"fatal"}\u0000');
  });

  it('accepts base fields in place of pid/hostname', () => {
    const lines: string[] = [];
    const log = createLogger({ base: { service: 'flowgate' }, destination: { write: (s: string) => void lines.push(s) } });
    log.info('x');
    const l = JSON.parse(lines[0]) as Line;
    expect(l.service).to.equal('flowgate');
    expect(l).not.to.have.property('pid');
  });
});

describe('RateLimitedLog', () => {
  it('logs at most N lines per reason per window, then one summary of what it suppressed', () => {
    const { log, lines } = capture();
    const clock = new FakeClock();
    const bad = new RateLimitedLog(log, { perMinute: 3, now: clock.now, tickMs: 0 });
    const logged: boolean[] = [];
    for (let i = 0; i < 10; i++) {
      logged.push(bad.badInput('truncated', `record ${i} runs past its set`, { exporter: '192.0.2.1' }));
      clock.advance(1000);
    }
    expect(logged).to.deep.equal([true, true, true, false, false, false, false, false, false, false]);
    expect(lines).to.have.length(3);
    expect(lines[0]).to.include({ level: 'warn', msg: BAD_INPUT_MSG, reason: 'truncated', detail: 'record 0 runs past its set', exporter: '192.0.2.1' });
    expect(bad.suppressedTotal).to.equal(7);

    clock.advance(50_000); // 60 s after the first line: the window is over
    bad.badInput('truncated', 'record 10');
    expect(lines).to.have.length(5);
    expect(lines[3]).to.deep.include({ level: 'warn', msg: SUPPRESSED_MSG, reason: 'truncated', suppressed: 7 });
    expect(lines[4]).to.include({ msg: BAD_INPUT_MSG, detail: 'record 10' });
  });

  it('keeps a separate budget per reason', () => {
    const { log, lines } = capture();
    const clock = new FakeClock();
    const bad = new RateLimitedLog(log, { perMinute: 2, now: clock.now, tickMs: 0 });
    for (let i = 0; i < 5; i++) {
      bad.badInput('bad_set', 'x');
      bad.badInput('bad_template', 'y');
    }
    expect(lines.filter((l) => l.reason === 'bad_set')).to.have.length(2);
    expect(lines.filter((l) => l.reason === 'bad_template')).to.have.length(2);
    clock.advance(60_000);
    bad.tick();
    const summaries = lines.filter((l) => l.msg === SUPPRESSED_MSG).map((l) => [l.reason, l.suppressed]);
    expect(summaries).to.deep.equal([['bad_set', 3], ['bad_template', 3]]);
  });

  it('does not build the detail or fields of a suppressed line', () => {
    const { log, lines } = capture();
    const clock = new FakeClock();
    const bad = new RateLimitedLog(log, { perMinute: 1, now: clock.now, tickMs: 0 });
    let built = 0;
    const detail = (): string => {
      built++;
      return 'expensive detail';
    };
    const fields = (): Record<string, unknown> => {
      built++;
      return { exporter: '192.0.2.1' };
    };
    for (let i = 0; i < 100; i++) bad.badInput('bad_record', detail, fields);
    expect(built).to.equal(2);
    expect(lines).to.have.length(1);
    expect(lines[0]).to.include({ detail: 'expensive detail', exporter: '192.0.2.1', reason: 'bad_record' });
  });

  it('summarises a window that ended while its reason went quiet (tick), and forgets it', () => {
    const { log, lines } = capture();
    const clock = new FakeClock();
    const bad = new RateLimitedLog(log, { perMinute: 1, now: clock.now, tickMs: 0 });
    bad.badInput('short_datagram', 'a');
    bad.badInput('short_datagram', 'b');
    bad.badInput('short_datagram', 'c');
    clock.advance(59_999);
    bad.tick();
    expect(lines).to.have.length(1); // window not over yet
    clock.advance(1);
    bad.tick();
    expect(lines).to.have.length(2);
    expect(lines[1]).to.deep.include({ msg: SUPPRESSED_MSG, reason: 'short_datagram', suppressed: 2 });
    bad.tick();
    expect(lines).to.have.length(2); // summarised once
    bad.badInput('short_datagram', 'd'); // a fresh window: logs again
    expect(lines).to.have.length(3);
    expect(lines[2]).to.include({ detail: 'd' });
  });

  it('writes no summary for a window in which nothing was suppressed', () => {
    const { log, lines } = capture();
    const clock = new FakeClock();
    const bad = new RateLimitedLog(log, { perMinute: 5, now: clock.now, tickMs: 0 });
    bad.badInput('truncated', 'a');
    clock.advance(120_000);
    bad.tick();
    bad.badInput('truncated', 'b');
    bad.close();
    expect(lines.map((l) => l.msg)).to.deep.equal([BAD_INPUT_MSG, BAD_INPUT_MSG]);
  });

  it('close() writes the pending summaries at once', () => {
    const { log, lines } = capture();
    const clock = new FakeClock();
    const bad = new RateLimitedLog(log, { perMinute: 0, now: clock.now, tickMs: 0 });
    for (let i = 0; i < 4; i++) bad.badInput('unsupported', 'x');
    expect(lines).to.have.length(0);
    bad.close();
    expect(lines).to.deep.equal([{ ...lines[0], level: 'warn', msg: SUPPRESSED_MSG, reason: 'unsupported', suppressed: 4 }]);
  });

  it('honours the level option and reads the clock only through `now`', () => {
    const { log, lines } = capture('debug');
    let reads = 0;
    const bad = new RateLimitedLog(log, { level: 'info', now: () => (reads++, 0), tickMs: 0 });
    bad.badInput('bad_header', 'x');
    expect(lines[0].level).to.equal('info');
    expect(reads).to.equal(1);
  });

  it('bounds the number of reasons it tracks; the rest share one budget', () => {
    const { log, lines } = capture();
    const clock = new FakeClock();
    const bad = new RateLimitedLog(log, { perMinute: 1, maxReasons: 2, now: clock.now, tickMs: 0 });
    bad.badInput('r1', 'x');
    bad.badInput('r2', 'x');
    bad.badInput('r3', 'x'); // first on the shared budget: logged with its own reason
    bad.badInput('r4', 'x'); // shared budget spent
    bad.badInput('r5', 'x');
    expect(lines.map((l) => l.reason)).to.deep.equal(['r1', 'r2', 'r3']);
    bad.close();
    expect(lines[3]).to.deep.include({ msg: SUPPRESSED_MSG, reason: 'other', suppressed: 2 });
  });

  it('flushes quiet windows on its own timer', async () => {
    const { log, lines } = capture();
    const clock = new FakeClock();
    const bad = new RateLimitedLog(log, { perMinute: 1, now: clock.now, tickMs: 5 });
    try {
      bad.badInput('truncated', 'a');
      bad.badInput('truncated', 'b');
      clock.advance(60_000);
      await new Promise((r) => setTimeout(r, 30));
      expect(lines.map((l) => l.msg)).to.deep.equal([BAD_INPUT_MSG, SUPPRESSED_MSG]);
    } finally {
      bad.close();
    }
  });

  it('costs little per suppressed call', () => {
    const log = createLogger({ destination: { write: () => undefined } });
    const bad = new RateLimitedLog(log, { perMinute: 10, tickMs: 0 });
    const fields = { exporter: '192.0.2.1' };
    const N = 1_000_000;
    for (let i = 0; i < 100_000; i++) bad.badInput('truncated', 'detail', fields);
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < N; i++) bad.badInput('truncated', 'detail', fields);
    const ns = Number(process.hrtime.bigint() - t0) / N;
    console.log(`      suppressed badInput()                           ${ns.toFixed(1).padStart(7)} ns/call`);
    expect(ns).to.be.below(500);
    bad.close();
  });
});
