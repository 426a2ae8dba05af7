/**
 * Text as a terminal shows it: the display width of a string (wide East Asian characters and emoji
 * take two columns, combining marks none), cutting to a width with an ellipsis at the end or in
 * the middle, and flattening free text (log lines, run summaries, errors) to one line without
 * escape sequences or control characters, so no row of the views can wrap or move the cursor.
 */

const ELLIPSIS = '…';
const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;
// Escape sequences: CSI (ESC [ ... final), OSC (ESC ] ... BEL or ESC \), and two-character ones.
// eslint-disable-next-line no-control-regex
const ESCAPES = /\u001b(?:\[[0-?]*[ -/]*[@-~]|\][^\u0007\u001b]*(?:\u0007|\u001b\\)?|[@-Z\\-_])|\u009b[0-?]*[ -/]*[@-~]/g;
const LINE_BREAKS = /[\r\n\t\v\f\u2028\u2029]+/g;
// eslint-disable-next-line no-control-regex
const CONTROLS = /[\u0000-\u001f\u007f-\u009f]/g;
const ZERO_WIDTH = /^[\p{Mn}\p{Me}\p{Cf}]$/u;
const EMOJI = /^\p{Emoji_Presentation}$/u;

/** Columns one code point takes. */
function charWidth(cp: number, ch: string): number {
  if (cp < 0x20 || (cp >= 0x7f && cp < 0xa0)) return 0;
  if (cp < 0x300) return 1;
  if (ZERO_WIDTH.test(ch) || (cp >= 0xfe00 && cp <= 0xfe0f)) return 0;
  if (
    (cp >= 0x1100 && cp <= 0x115f) ||
    (cp >= 0x2e80 && cp <= 0x303e) ||
    (cp >= 0x3041 && cp <= 0x33ff) ||
    (cp >= 0x3400 && cp <= 0x4dbf) ||
    (cp >= 0x4e00 && cp <= 0x9fff) ||
    (cp >= 0xa000 && cp <= 0xa4cf) ||
    (cp >= 0xac00 && cp <= 0xd7a3) ||
    (cp >= 0xf900 && cp <= 0xfaff) ||
    (cp >= 0xfe30 && cp <= 0xfe4f) ||
    (cp >= 0xff00 && cp <= 0xff60) ||
    (cp >= 0xffe0 && cp <= 0xffe6) ||
    (cp >= 0x1f300 && cp <= 0x1f64f) ||
    (cp >= 0x1f900 && cp <= 0x1f9ff) ||
    (cp >= 0x20000 && cp <= 0x3fffd)
  )
    return 2;
  return EMOJI.test(ch) ? 2 : 1;
}

/** How many terminal columns `text` takes (one line, no escape sequences). */
export function displayWidth(text: string): number {
  if (PRINTABLE_ASCII.test(text)) return text.length;
  let w = 0;
  for (const ch of text) w += charWidth(ch.codePointAt(0)!, ch);
  return w;
}

/** The longest start of `text` that takes at most `width` columns. */
function head(text: string, width: number): string {
  let w = 0;
  let out = '';
  for (const ch of text) {
    const cw = charWidth(ch.codePointAt(0)!, ch);
    if (w + cw > width) break;
    w += cw;
    out += ch;
  }
  return out;
}

/** The longest end of `text` that takes at most `width` columns. */
function tail(text: string, width: number): string {
  const chars = [...text];
  let w = 0;
  let i = chars.length;
  while (i > 0) {
    const ch = chars[i - 1]!;
    const cw = charWidth(ch.codePointAt(0)!, ch);
    if (w + cw > width) break;
    w += cw;
    i--;
  }
  return chars.slice(i).join('');
}

/** `text` cut to `width` columns, ending in "…" when cut. */
export function truncateEnd(text: string, width: number): string {
  if (width <= 0) return '';
  if (displayWidth(text) <= width) return text;
  return head(text, width - 1) + ELLIPSIS;
}

/** `text` cut to `width` columns, with "…" in the middle when cut (keeps both ends of a long name). */
export function truncateMiddle(text: string, width: number): string {
  if (width <= 0) return '';
  if (displayWidth(text) <= width) return text;
  if (width < 5) return truncateEnd(text, width);
  const room = width - 1;
  const front = head(text, Math.ceil(room / 2));
  return front + ELLIPSIS + tail(text, room - displayWidth(front));
}

/** `text` padded with spaces to `width` columns (it must already fit). */
export function padEnd(text: string, width: number): string {
  const w = displayWidth(text);
  return w >= width ? text : text + ' '.repeat(width - w);
}

/** Free text as one line: escape sequences removed, line breaks and tabs as one space, other control characters as spaces. */
export function oneLine(text: string): string {
  return text.replace(ESCAPES, '').replace(LINE_BREAKS, ' ').replace(CONTROLS, ' ');
}
