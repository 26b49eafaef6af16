// A strict RFC 4180 reader for tests: fields separated by ",", records ended by "\n" (or
// "\r\n"), a field either bare (no `"`, `,`, CR or LF in it) or wholly quoted with `""` for a
// quote. Anything else throws, so an output that a lenient reader would half-accept fails.

export function parseCsvStrict(text: string): string[][] {
  const rows: string[][] = [];
  let i = 0;
  const n = text.length;
  while (i < n) {
    const row: string[] = [];
    for (;;) {
      let field = '';
      if (text[i] === '"') {
        i++;
        for (;;) {
          if (i >= n) throw new Error(`unterminated quoted field in row ${rows.length + 1}`);
          const c = text[i];
          if (c === '"') {
            if (text[i + 1] === '"') { field += '"'; i += 2; continue; }
            i++;
            break;
          }
          field += c;
          i++;
        }
      } else {
        while (i < n && text[i] !== ',' && text[i] !== '\n' && text[i] !== '\r') {
          if (text[i] === '"') throw new Error(`bare quote inside an unquoted field in row ${rows.length + 1}`);
          field += text[i];
          i++;
        }
      }
      row.push(field);
      if (text[i] === ',') { i++; continue; }
      if (text[i] === '\r' && text[i + 1] === '\n') { i += 2; break; }
      if (text[i] === '\n') { i++; break; }
      throw new Error(i >= n ? `row ${rows.length + 1} does not end with a newline` : `unexpected ${JSON.stringify(text[i])} after a field in row ${rows.length + 1}`);
    }
    rows.push(row);
  }
  return rows;
}
