// Ctrl-C for long-running commands: the first SIGINT/SIGTERM aborts `signal` so the command can
// finish cleanly (summary, temporary files removed); a second one exits at once. `release()`
// puts the default handling back when the command is done.

export function abortOnSignals(): { signal: AbortSignal; release(): void } {
  const controller = new AbortController();
  let signals = 0;
  const onSignal = (): void => {
    if (++signals > 1) process.exit(130);
    controller.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    signal: controller.signal,
    release(): void {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}
