// `listen` of a nemea output: where the TRAP output interface is served.
//   tcp:HOST:PORT   (HOST may be [v6]; port 0 = any free port, for tests)
//   unix:NAME       socket <socket_dir>/trap-<NAME>.sock, libtrap's naming, so `-i u:NAME` finds it
//   file:PATH       TRAP file format

import { join } from 'node:path';

export type ListenSpec =
  | { kind: 'tcp'; host: string; port: number }
  | { kind: 'unix'; name: string }
  | { kind: 'file'; path: string };

/** libtrap's default directory for UNIX-socket interfaces; TRAP_SOCKET_DIR overrides it there too. */
export const LIBTRAP_SOCKET_DIR = '/var/run/libtrap';

export function parseListen(s: string): ListenSpec | string {
  const i = s.indexOf(':');
  const kind = i < 0 ? s : s.slice(0, i);
  const rest = i < 0 ? '' : s.slice(i + 1);
  if (kind === 'tcp') {
    const m = /^(\[[0-9A-Fa-f:.]+\]|[^:[\]]+):(\d{1,5})$/.exec(rest);
    if (!m) return `${JSON.stringify(s)}: write tcp:HOST:PORT, e.g. "tcp:127.0.0.1:7600" or "tcp:[::1]:7600"`;
    const port = Number(m[2]);
    if (port > 65535) return `${JSON.stringify(s)}: port ${port} is above 65535`;
    return { kind: 'tcp', host: m[1].replace(/^\[|\]$/g, ''), port };
  }
  if (kind === 'unix') {
    if (!/^[A-Za-z0-9._-]+$/.test(rest)) return `${JSON.stringify(s)}: write unix:NAME with NAME of letters, digits, ".", "_" and "-" (the socket is <socket_dir>/trap-NAME.sock)`;
    return { kind: 'unix', name: rest };
  }
  if (kind === 'file') {
    if (rest === '') return `${JSON.stringify(s)}: write file:PATH, e.g. "file:/var/lib/flowgate/flows.trapcap"`;
    return { kind: 'file', path: rest };
  }
  return `${JSON.stringify(s)}: listen must start with tcp:, unix: or file:, e.g. "tcp:127.0.0.1:7600", "unix:flows", "file:/path/x.trapcap"`;
}

/** Config value, then TRAP_SOCKET_DIR (as libtrap honours it), then libtrap's default. */
export function socketDir(configured: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  return configured ?? env.TRAP_SOCKET_DIR ?? LIBTRAP_SOCKET_DIR;
}

export function unixSocketPath(dir: string, name: string): string {
  return join(dir, `trap-${name}.sock`);
}
