/**
 * A minimal terminal screen for tests: feeds the bytes a program wrote to a terminal through a
 * grid of `rows` x `cols` cells the way an xterm-like terminal would (printing with auto-wrap,
 * CR/LF, scrolling into a scrollback, the cursor movements and erasures ink and log-update use:
 * CSI A B C D E F G H J K d m, and ignoring the modes it sets), so a test can read the final
 * screen and know whether anything was ever wrapped (a character written past the last column)
 * or scrolled off the top.
 */
import { displayWidth } from '../../src/tui/text.js';

export class Screen {
  #grid: string[][];
  #row = 0;
  #col = 0;
  #wrapPending = false;
  #saved = { row: 0, col: 0 };
  /** Lines that scrolled off the top, oldest first. */
  readonly scrollback: string[] = [];
  /** The lines on which a character went past the last column (and so wrapped). */
  readonly wrapped: string[] = [];
  /** Every SGR (style) sequence seen, e.g. "\u001b[31m". */
  readonly sgr: string[] = [];

  constructor(
    public cols: number,
    public rows: number,
  ) {
    this.#grid = Array.from({ length: rows }, () => this.#blank());
  }

  #blank(): string[] {
    return Array.from({ length: this.cols }, () => ' ');
  }

  /** The screen now, one string per row, trailing spaces removed. */
  lines(): string[] {
    return this.#grid.map((r) => r.join('').trimEnd());
  }

  /** Changes the size the way xterm does: no reflow; rows that no longer fit above the cursor scroll off. */
  resize(cols: number, rows: number): void {
    const excess = this.#row - (rows - 1);
    for (let i = 0; i < excess; i++) this.scrollback.push(this.#grid.shift()!.join('').trimEnd());
    if (excess > 0) this.#row -= excess;
    this.cols = cols;
    this.#grid = this.#grid.slice(0, rows).map((r) => (r.length >= cols ? r.slice(0, cols) : [...r, ...Array.from({ length: cols - r.length }, () => ' ')]));
    while (this.#grid.length < rows) this.#grid.push(this.#blank());
    this.rows = rows;
    this.#row = Math.min(this.#row, rows - 1);
    this.#col = Math.min(this.#col, cols - 1);
    this.#wrapPending = false;
  }

  #lineFeed(): void {
    if (this.#row === this.rows - 1) {
      this.scrollback.push(this.#grid.shift()!.join('').trimEnd());
      this.#grid.push(this.#blank());
    } else this.#row++;
  }

  #move(row: number, col: number): void {
    this.#row = Math.max(0, Math.min(this.rows - 1, row));
    this.#col = Math.max(0, Math.min(this.cols - 1, col));
    this.#wrapPending = false;
  }

  #put(ch: string): void {
    const w = displayWidth(ch);
    if (w === 0) return;
    if (this.#wrapPending || this.#col + w > this.cols) {
      this.wrapped.push(this.#grid[this.#row]!.join('').trimEnd());
      this.#col = 0;
      this.#wrapPending = false;
      this.#lineFeed();
    }
    const line = this.#grid[this.#row]!;
    line[this.#col] = ch;
    if (w === 2 && this.#col + 1 < this.cols) line[this.#col + 1] = '';
    this.#col += w;
    if (this.#col >= this.cols) {
      this.#col = this.cols - 1;
      this.#wrapPending = true;
    }
  }

  #erase(row: number, from: number, to: number): void {
    const line = this.#grid[row]!;
    for (let c = Math.max(0, from); c < Math.min(this.cols, to); c++) line[c] = ' ';
  }

  #csi(params: string, final: string): void {
    if (params.startsWith('?') || params.startsWith('>') || params.startsWith('=')) return; // modes, queries
    const n = params.split(';').map((p) => (p === '' ? NaN : Number(p)));
    const a = Number.isNaN(n[0]!) ? 1 : n[0]!;
    const first = Number.isNaN(n[0]!) ? 0 : n[0]!;
    switch (final) {
      case 'A':
        return this.#move(this.#row - a, this.#col);
      case 'B':
        return this.#move(this.#row + a, this.#col);
      case 'C':
        return this.#move(this.#row, this.#col + a);
      case 'D':
        return this.#move(this.#row, this.#col - a);
      case 'E':
        return this.#move(this.#row + a, 0);
      case 'F':
        return this.#move(this.#row - a, 0);
      case 'G':
        return this.#move(this.#row, a - 1);
      case 'd':
        return this.#move(a - 1, this.#col);
      case 'H':
      case 'f':
        return this.#move(a - 1, (Number.isNaN(n[1] ?? NaN) ? 1 : n[1]!) - 1);
      case 'K':
        if (first === 0) this.#erase(this.#row, this.#col, this.cols);
        else if (first === 1) this.#erase(this.#row, 0, this.#col + 1);
        else this.#erase(this.#row, 0, this.cols);
        return;
      case 'J':
        if (first === 0) {
          this.#erase(this.#row, this.#col, this.cols);
          for (let r = this.#row + 1; r < this.rows; r++) this.#erase(r, 0, this.cols);
        } else if (first === 1) {
          for (let r = 0; r < this.#row; r++) this.#erase(r, 0, this.cols);
          this.#erase(this.#row, 0, this.#col + 1);
        } else {
          for (let r = 0; r < this.rows; r++) this.#erase(r, 0, this.cols);
          if (first === 3) this.scrollback.length = 0;
        }
        return;
      case 'X':
        return this.#erase(this.#row, this.#col, this.#col + a);
      case 's':
        this.#saved = { row: this.#row, col: this.#col };
        return;
      case 'u':
        return this.#move(this.#saved.row, this.#saved.col);
      default:
        return; // m (recorded by the caller), r, h, l, n, c, t, ...
    }
  }

  /** Feeds what the program wrote. */
  feed(data: string): void {
    let i = 0;
    while (i < data.length) {
      const ch = data[i]!;
      if (ch === '\u001b') {
        const next = data[i + 1];
        if (next === '[') {
          let j = i + 2;
          while (j < data.length && !/[@-~]/.test(data[j]!)) j++;
          const params = data.slice(i + 2, j);
          const final = data[j] ?? '';
          if (final === 'm') this.sgr.push(data.slice(i, j + 1));
          else this.#csi(params, final);
          i = j + 1;
        } else if (next === ']' || next === 'P' || next === '_') {
          // OSC / DCS / APC: up to BEL or ST.
          let j = i + 2;
          while (j < data.length && data[j] !== '\u0007' && !(data[j] === '\u001b' && data[j + 1] === '\\')) j++;
          i = data[j] === '\u0007' ? j + 1 : j + 2;
        } else if (next === '(' || next === ')') i += 3;
        else {
          if (next === '7') this.#saved = { row: this.#row, col: this.#col };
          else if (next === '8') this.#move(this.#saved.row, this.#saved.col);
          else if (next === 'c') {
            this.#grid = Array.from({ length: this.rows }, () => this.#blank());
            this.#move(0, 0);
          } else if (next === 'D') this.#lineFeed();
          else if (next === 'E') {
            this.#col = 0;
            this.#lineFeed();
          } else if (next === 'M') this.#move(this.#row - 1, this.#col);
          i += 2;
        }
        continue;
      }
      const cp = data.codePointAt(i)!;
      const char = String.fromCodePoint(cp);
      i += char.length;
      if (char === '\r') {
        this.#col = 0;
        this.#wrapPending = false;
      } else if (char === '\n') {
        this.#wrapPending = false;
        this.#lineFeed();
      } else if (char === '\b') this.#move(this.#row, this.#col - 1);
      else if (char === '\t') this.#move(this.#row, (Math.floor(this.#col / 8) + 1) * 8);
      else if (cp < 0x20 || cp === 0x7f) continue;
      else this.#put(char);
    }
  }
}

/** The screen after `output`, applying each resize at its offset. */
export function replay(output: string, cols: number, rows: number, resizes: ReadonlyArray<{ at: number; cols: number; rows: number }> = []): Screen {
  const screen = new Screen(cols, rows);
  let from = 0;
  for (const r of resizes) {
    screen.feed(output.slice(from, r.at));
    screen.resize(r.cols, r.rows);
    from = r.at;
  }
  screen.feed(output.slice(from));
  return screen;
}
