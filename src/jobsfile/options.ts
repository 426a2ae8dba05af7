/**
 * Typed option declarations: how a watcher (or the scheduler) says which `key=value` options a
 * job line may carry, and how their text becomes values. Pure.
 */
import { formatDuration, parseDuration } from '../schedule/duration.js';
import { checkUrl } from './url-check.js';

interface Common<T> {
  description: string;
  default?: T;
  required?: boolean;
}

export type OptionDecl =
  | ({ type: 'int'; min?: number; max?: number } & Common<number>)
  | ({ type: 'duration'; min?: number; max?: number } & Common<number>)
  | ({ type: 'bool' } & Common<boolean>)
  | ({ type: 'string'; pattern?: RegExp } & Common<string>)
  | ({ type: 'enum'; values: readonly string[] } & Common<string>)
  /** An absolute URL with one of `protocols` (e.g. ['https:']); messages never echo it. */
  | ({ type: 'url'; protocols: readonly string[] } & Common<string>);

export type OptionDecls = Record<string, OptionDecl>;

type ValueOf<D extends OptionDecl> = D extends { type: 'int' | 'duration' }
  ? number
  : D extends { type: 'bool' }
    ? boolean
    : D extends { type: 'enum'; values: readonly (infer V)[] }
      ? V
      : string;

/** The values a run sees: declared defaults and required options are always present. */
export type OptionValues<D extends OptionDecls> = {
  [K in keyof D]: D[K] extends { default: unknown } | { required: true } ? ValueOf<D[K]> : ValueOf<D[K]> | undefined;
};

export type OptionValue = number | boolean | string;

/** Turns option text into a value, or returns an error message. */
export function coerceOption(key: string, decl: OptionDecl, text: string): { value: OptionValue } | { error: string } {
  switch (decl.type) {
    case 'int': {
      if (!/^-?\d+$/.test(text)) return { error: `${key} must be a whole number, got "${text}"` };
      const n = Number(text);
      if (decl.min !== undefined && n < decl.min) return { error: `${key} must be at least ${decl.min}, got ${n}` };
      if (decl.max !== undefined && n > decl.max) return { error: `${key} must be at most ${decl.max}, got ${n}` };
      return { value: n };
    }
    case 'duration': {
      let ms: number;
      try {
        ms = parseDuration(text);
      } catch (err) {
        return { error: `${key}: ${(err as Error).message}` };
      }
      if (decl.min !== undefined && ms < decl.min) return { error: `${key} must be at least ${formatDuration(decl.min)}, got ${text}` };
      if (decl.max !== undefined && ms > decl.max) return { error: `${key} must be at most ${formatDuration(decl.max)}, got ${text}` };
      return { value: ms };
    }
    case 'bool':
      if (/^(true|yes|on|1)$/i.test(text)) return { value: true };
      if (/^(false|no|off|0)$/i.test(text)) return { value: false };
      return { error: `${key} must be true or false, got "${text}"` };
    case 'enum':
      if (decl.values.includes(text)) return { value: text };
      return { error: `${key} must be one of ${decl.values.join(', ')}, got "${text}"` };
    case 'url': {
      const problem = checkUrl(decl.protocols, `${decl.protocols[0]}//host/path`)(text);
      return problem ? { error: `${key}: ${problem}` } : { value: text };
    }
    case 'string':
      if (decl.required && text === '') return { error: `${key} must not be empty` };
      if (decl.pattern && !decl.pattern.test(text)) return { error: `${key} has an invalid value "${text}"` };
      return { value: text };
  }
}

/** Checks a declaration table itself (for plugins): returns problems, empty when fine. */
export function checkDecls(decls: unknown): string[] {
  if (typeof decls !== 'object' || decls === null) return ['options must be an object of declarations'];
  const problems: string[] = [];
  const types = ['int', 'duration', 'bool', 'string', 'enum', 'url'];
  for (const [key, decl] of Object.entries(decls)) {
    if (!/^[a-z][a-z0-9-]*$/.test(key)) problems.push(`option name "${key}" must be lower-case letters, digits and dashes`);
    const d = decl as Partial<OptionDecl> | null;
    if (typeof d !== 'object' || d === null || !types.includes(d.type as string)) {
      problems.push(`option "${key}" needs a type (${types.join(', ')})`);
      continue;
    }
    if (d.type === 'enum' && (!Array.isArray(d.values) || d.values.length === 0)) problems.push(`enum option "${key}" needs a non-empty values list`);
    if (d.type === 'url' && (!Array.isArray(d.protocols) || d.protocols.length === 0)) problems.push(`url option "${key}" needs a non-empty protocols list, e.g. ['https:']`);
  }
  return problems;
}
