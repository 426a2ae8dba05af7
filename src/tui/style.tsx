/**
 * Styles of the terminal views and whether to use them: with NO_COLOR set (any non-empty value,
 * no-color.org) the views pass no colour, bold or dim to ink at all, so not one style escape is
 * written, whatever chalk decided when it loaded.
 */
import { Text } from 'ink';
import type { ReactNode } from 'react';
import type { Part } from './layout.js';

export interface Style {
  color?: string;
  bold?: boolean;
  dim?: boolean;
}

/** Colour and styles, unless NO_COLOR asks for none. */
export function colourWanted(env: NodeJS.ProcessEnv = process.env): boolean {
  return !env.NO_COLOR;
}

/** One run of text in its style (none when `colour` is off). */
export function Styled({ text, style, colour }: { text: string; style?: Style; colour: boolean }): ReactNode {
  if (!colour || !style || (!style.color && !style.bold && !style.dim)) return text;
  return (
    <Text color={style.color} bold={style.bold} dimColor={style.dim}>
      {text}
    </Text>
  );
}

/** One terminal line of parts (already fitted to the width: it is never wrapped). */
export function Line({ parts, colour }: { parts: ReadonlyArray<Part<Style>>; colour: boolean }): ReactNode {
  return (
    <Text wrap="truncate-end">
      {parts.length === 0
        ? ' '
        : parts.map((p, i) => (
            <Styled key={i} text={p.text} style={p.style} colour={colour} />
          ))}
    </Text>
  );
}
