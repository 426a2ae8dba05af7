/**
 * Redis Cluster's hash slot of a key (0..16383): CRC16 (XMODEM) of the key's hash tag, the text
 * between the first `{` and the next `}` when that text is not empty, else of the whole key; as
 * keyHashSlot() in Redis's cluster.c computes it, on the key's UTF-8 bytes. The store groups a
 * batch by slot, because every key of one script call must be in one slot.
 */
export const SLOTS = 16_384;

const TABLE = ((): Uint16Array => {
  const t = new Uint16Array(256);
  for (let i = 0; i < 256; i++) {
    let crc = i << 8;
    for (let b = 0; b < 8; b++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
    t[i] = crc;
  }
  return t;
})();

/** CRC16/XMODEM of `bytes[from..to)`. */
export function crc16(bytes: Uint8Array, from = 0, to = bytes.length): number {
  let crc = 0;
  for (let i = from; i < to; i++) crc = ((crc << 8) & 0xffff) ^ TABLE[((crc >> 8) ^ bytes[i]!) & 0xff]!;
  return crc;
}

const OPEN = 0x7b; // {
const CLOSE = 0x7d; // }

export function keySlot(key: string): number {
  const bytes = Buffer.from(key, 'utf8');
  const open = bytes.indexOf(OPEN);
  if (open >= 0) {
    const close = bytes.indexOf(CLOSE, open + 1);
    if (close > open + 1) return crc16(bytes, open + 1, close) & (SLOTS - 1);
  }
  return crc16(bytes) & (SLOTS - 1);
}
