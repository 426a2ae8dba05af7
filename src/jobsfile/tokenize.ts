/**
 * Splits a jobs-file line into whitespace-separated tokens. Quotes ('...' or "...") may start
 * anywhere in a token (`command="echo hi"`) and hold spaces; inside "..." a backslash escapes
 * `"` and `\`. `${NAME}` and `${NAME:-default}` expand outside single quotes; `$$` is a literal `$`.
 * Pure: variables come from the `lookup` callback.
 */
export interface Token {
  /** Text after quote removal and expansion. */
  text: string;
  /** 1-based column of the token's first character. */
  col: number;
  /** Text as written. */
  raw: string;
}

export interface TokenProblem {
  col: number;
  message: string;
}

export type Lookup = (name: string) => string | undefined;

const VAR = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/y;

/**
 * Expands `${...}` at `text[i]`; returns the replacement and the index after it, or a problem.
 */
function expandAt(text: string, i: number, lookup: Lookup): { value: string; end: number } | { problem: string } {
  if (text[i + 1] === '$') return { value: '$', end: i + 2 };
  if (text[i + 1] !== '{') return { value: '$', end: i + 1 };
  VAR.lastIndex = i;
  const m = VAR.exec(text);
  if (!m) {
    const close = text.indexOf('}', i);
    return { problem: close === -1 ? 'unterminated "${"' : `invalid variable reference "${text.slice(i, close + 1)}"` };
  }
  const value = lookup(m[1]!);
  if (value !== undefined && value !== '') return { value, end: VAR.lastIndex };
  if (m[2] !== undefined) return { value: m[2], end: VAR.lastIndex };
  if (value === '') return { value, end: VAR.lastIndex };
  return { problem: `variable ${m[1]} is not set (set it above this line or in the environment, or write \${${m[1]}:-default})` };
}

/** Expands `${...}` and `$$` in a plain string (a variable line's unquoted value). */
export function expandText(text: string, lookup: Lookup): { text: string; problems: TokenProblem[] } {
  let out = '';
  const problems: TokenProblem[] = [];
  for (let i = 0; i < text.length; ) {
    if (text[i] !== '$') {
      out += text[i++];
      continue;
    }
    const r = expandAt(text, i, lookup);
    if ('problem' in r) {
      problems.push({ col: i + 1, message: r.problem });
      out += text[i++];
    } else {
      out += r.value;
      i = r.end;
    }
  }
  return { text: out, problems };
}

export function tokenizeLine(line: string, lookup: Lookup): { tokens: Token[]; problems: TokenProblem[] } {
  const tokens: Token[] = [];
  const problems: TokenProblem[] = [];
  let i = 0;
  /** Expands the `$...` at `i` and moves past it; a bad reference is reported and kept out of the text. */
  const expand = (): string => {
    const r = expandAt(line, i, lookup);
    if ('problem' in r) {
      problems.push({ col: i + 1, message: r.problem });
      i++;
      return '';
    }
    i = r.end;
    return r.value;
  };
  while (i < line.length) {
    while (i < line.length && /\s/.test(line[i]!)) i++;
    if (i >= line.length) break;
    const start = i;
    let text = '';
    while (i < line.length && !/\s/.test(line[i]!)) {
      const c = line[i]!;
      if (c === "'" || c === '"') {
        const quoteAt = i;
        i++;
        let closed = false;
        while (i < line.length) {
          const q = line[i]!;
          if (q === c) {
            closed = true;
            i++;
            break;
          }
          if (c === '"' && q === '\\' && (line[i + 1] === '"' || line[i + 1] === '\\')) {
            text += line[i + 1];
            i += 2;
          } else if (c === '"' && q === '$') {
            text += expand();
          } else {
            text += q;
            i++;
          }
        }
        if (!closed) problems.push({ col: quoteAt + 1, message: `unterminated ${c === '"' ? 'double' : 'single'} quote` });
      } else if (c === '$') {
        text += expand();
      } else {
        text += c;
        i++;
      }
    }
    tokens.push({ text, col: start + 1, raw: line.slice(start, i) });
  }
  return { tokens, problems };
}
