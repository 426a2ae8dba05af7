/**
 * Reading a Dockerfile and a .dockerignore the way `docker build` does, for the instructions the
 * examples use: line continuations, comment lines (also inside a continuation), exec (JSON) and
 * shell forms, `--flag=value` options, `ENV k=v ...`, `FROM image AS name`, `HEALTHCHECK ... CMD`,
 * and .dockerignore patterns (`*`, `**`, `?`, `!` exceptions, last match wins, a matching
 * directory takes everything under it).
 */

export interface Instruction {
  /** Upper-case: FROM, RUN, COPY, ... */
  name: string;
  /** The text after the instruction name and its flags. */
  args: string;
  /** `--from=build` is `{ from: 'build' }`. */
  flags: Record<string, string>;
  /** The argument list for the exec (JSON) form, undefined for the shell form. */
  exec?: string[];
  /** 1-based line where the instruction starts. */
  line: number;
}

export interface Stage {
  image: string;
  name?: string;
  instructions: Instruction[];
}

const FLAGGED = new Set(['FROM', 'COPY', 'ADD', 'RUN', 'HEALTHCHECK']);

/** Splits shell-like words: whitespace separates, '...' and "..." quote, backslash escapes. */
export function shellWords(text: string): string[] {
  const words: string[] = [];
  let word: string | null = null;
  let quote: '"' | "'" | null = null;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quote) {
      if (c === quote) quote = null;
      else if (c === '\\' && quote === '"' && i + 1 < text.length) word += text[++i]!;
      else word += c;
    } else if (/\s/.test(c)) {
      if (word !== null) words.push(word);
      word = null;
    } else {
      word ??= '';
      if (c === '"' || c === "'") quote = c;
      else if (c === '\\' && i + 1 < text.length) word += text[++i]!;
      else word += c;
    }
  }
  if (quote) throw new Error(`unterminated ${quote} in: ${text}`);
  if (word !== null) words.push(word);
  return words;
}

function parseExec(args: string): string[] | undefined {
  if (!args.startsWith('[')) return undefined;
  try {
    const value: unknown = JSON.parse(args);
    return Array.isArray(value) && value.every((v) => typeof v === 'string') ? value : undefined;
  } catch {
    return undefined; // Docker runs a malformed JSON array as a shell command
  }
}

export function parseDockerfile(text: string): Instruction[] {
  const out: Instruction[] = [];
  let pending: { text: string; line: number } | null = null;
  text.split(/\r?\n/).forEach((raw, index) => {
    if (/^\s*#/.test(raw)) return; // comments and parser directives, also inside a continuation
    if (pending === null && raw.trim() === '') return;
    const continues = /\\\s*$/.test(raw);
    const piece = continues ? raw.replace(/\\\s*$/, '') : raw;
    pending = pending ? { text: `${pending.text} ${piece.trim()}`, line: pending.line } : { text: piece.trim(), line: index + 1 };
    if (continues) return;
    out.push(instruction(pending.text, pending.line));
    pending = null;
  });
  if (pending !== null) throw new Error(`the Dockerfile ends inside a continued line (line ${(pending as { line: number }).line})`);
  return out;
}

function instruction(text: string, line: number): Instruction {
  const m = /^(\S+)\s*(.*)$/.exec(text)!;
  const name = m[1]!.toUpperCase();
  let args = m[2]!;
  const flags: Record<string, string> = {};
  if (FLAGGED.has(name)) {
    let f: RegExpExecArray | null;
    while ((f = /^--([a-z-]+)(?:=(\S*))?\s*/.exec(args))) {
      flags[f[1]!] = f[2] ?? 'true';
      args = args.slice(f[0].length);
    }
  }
  return { name, args, flags, exec: parseExec(args), line };
}

/** The build stages, in order, each with the instructions after its FROM. */
export function stages(instructions: Instruction[]): Stage[] {
  const out: Stage[] = [];
  for (const ins of instructions) {
    if (ins.name === 'FROM') {
      const [image, as, name] = shellWords(ins.args);
      if (!image || (as !== undefined && (as.toUpperCase() !== 'AS' || !name))) throw new Error(`line ${ins.line}: cannot read FROM ${ins.args}`);
      out.push({ image, ...(name ? { name } : {}), instructions: [] });
    } else {
      if (out.length === 0) throw new Error(`line ${ins.line}: ${ins.name} before the first FROM`);
      out.at(-1)!.instructions.push(ins);
    }
  }
  return out;
}

/** `ENV a=1 b="x y"` (or the old `ENV a 1`) as name/value pairs. */
export function envPairs(ins: Instruction): Array<[string, string]> {
  const words = shellWords(ins.args);
  if (words.length > 0 && !words[0]!.includes('=')) return [[words[0]!, words.slice(1).join(' ')]];
  return words.map((w) => {
    const i = w.indexOf('=');
    if (i <= 0) throw new Error(`line ${ins.line}: cannot read ENV ${ins.args}`);
    return [w.slice(0, i), w.slice(i + 1)];
  });
}

/** The command of `HEALTHCHECK [--options] CMD ...`: its exec form, or undefined for NONE or the shell form. */
export function healthcheckCommand(ins: Instruction): { exec?: string[]; shell?: string } | null {
  const m = /^(CMD|NONE)\b\s*(.*)$/i.exec(ins.args);
  if (!m || m[1]!.toUpperCase() === 'NONE') return null;
  const exec = parseExec(m[2]!);
  return exec ? { exec } : { shell: m[2]! };
}

/** Paths (relative to the build context, `/`-separated) that a .dockerignore keeps out of the context. */
export function dockerignore(text: string): (relPath: string) => boolean {
  const rules = text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((l) => {
      const negate = l.startsWith('!');
      const pattern = (negate ? l.slice(1) : l).trim().replace(/^\/+|\/+$/g, '').replace(/^\.\/+/, '');
      return { negate, re: globToRegExp(pattern) };
    });
  return (relPath) => {
    const parts = relPath.replace(/^\.\/+/, '').split('/').filter(Boolean);
    // A path is matched by a rule when the path itself or one of its parent directories is.
    const candidates = parts.map((_, i) => parts.slice(0, i + 1).join('/'));
    let ignored = false;
    for (const rule of rules) if (candidates.some((c) => rule.re.test(c))) ignored = !rule.negate;
    return ignored;
  };
}

function globToRegExp(pattern: string): RegExp {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '*' && pattern[i + 1] === '*') {
      i++;
      if (pattern[i + 1] === '/') {
        re += '(?:.*/)?';
        i++;
      } else re += '.*';
    } else if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}
