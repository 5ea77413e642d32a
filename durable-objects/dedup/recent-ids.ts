import type { Fingerprint } from "./fingerprint";

const MIN_CAPACITY = 1024;
const MAX_LOAD = 0.7;

/**
 * The fingerprints of the ids a batcher holds in SQLite (tier 1 of decision record 0021), each
 * with the row that holds the id (`ref`). An open-addressing table of typed arrays: 12 bytes an
 * id at most 0.7 full, instead of a string and a Map entry each. A fingerprint absent here means
 * the id is absent from those rows; a present one names the rows to settle it in, since two ids
 * may share a fingerprint.
 */
export class RecentIds {
  private his: Int32Array;
  private los: Int32Array;
  private refs: Int32Array;
  private mask: number;
  private count = 0;

  constructor(capacity = MIN_CAPACITY) {
    let size = MIN_CAPACITY;
    while (size * MAX_LOAD < capacity) size *= 2;
    this.his = new Int32Array(size);
    this.los = new Int32Array(size);
    this.refs = new Int32Array(size);
    this.mask = size - 1;
  }

  get size(): number {
    return this.count;
  }

  /** Bytes the table takes in memory. */
  get bytes(): number {
    return this.his.byteLength * 3;
  }

  /** The rows of every entry with this fingerprint (usually none or one). */
  refsOf(fp: Fingerprint): number[] {
    const out: number[] = [];
    for (let i = fp.hi & this.mask; this.los[i] !== 0; i = (i + 1) & this.mask) {
      if (this.los[i] === fp.lo && this.his[i] === fp.hi) out.push(this.refs[i] ?? 0);
    }
    return out;
  }

  add(fp: Fingerprint, ref: number): void {
    if ((this.count + 1) > (this.mask + 1) * MAX_LOAD) this.grow();
    this.put(fp.hi, fp.lo, ref);
    this.count++;
  }

  /** Removes the entry of `fp` held in row `ref`; false when there is none. */
  remove(fp: Fingerprint, ref: number): boolean {
    const i = this.find(fp, ref);
    if (i < 0) return false;
    this.clear(i);
    this.count--;
    return true;
  }

  /** Points the entry of `fp` in row `from` at row `to` (the id moved); false when there is none. */
  move(fp: Fingerprint, from: number, to: number): boolean {
    const i = this.find(fp, from);
    if (i < 0) return false;
    this.refs[i] = to;
    return true;
  }

  private find(fp: Fingerprint, ref: number): number {
    for (let i = fp.hi & this.mask; this.los[i] !== 0; i = (i + 1) & this.mask) {
      if (this.los[i] === fp.lo && this.his[i] === fp.hi && this.refs[i] === ref) return i;
    }
    return -1;
  }

  private put(hi: number, lo: number, ref: number): void {
    let i = hi & this.mask;
    while (this.los[i] !== 0) i = (i + 1) & this.mask;
    this.his[i] = hi;
    this.los[i] = lo;
    this.refs[i] = ref;
  }

  // Backward-shift deletion: later entries of the same run move up, so lookups never need
  // tombstones and the table never fills with them.
  private clear(i: number): void {
    let hole = i;
    for (let j = (i + 1) & this.mask; this.los[j] !== 0; j = (j + 1) & this.mask) {
      const home = (this.his[j] ?? 0) & this.mask;
      // Entry j may fill the hole when it sits at least as far from its home slot as from the hole.
      if (((j - home) & this.mask) >= ((j - hole) & this.mask)) {
        this.his[hole] = this.his[j] ?? 0;
        this.los[hole] = this.los[j] ?? 0;
        this.refs[hole] = this.refs[j] ?? 0;
        hole = j;
      }
    }
    this.los[hole] = 0;
    this.his[hole] = 0;
    this.refs[hole] = 0;
  }

  private grow(): void {
    const { his, los, refs } = this;
    const size = his.length * 2;
    this.his = new Int32Array(size);
    this.los = new Int32Array(size);
    this.refs = new Int32Array(size);
    this.mask = size - 1;
    for (let i = 0; i < los.length; i++) if (los[i] !== 0) this.put(his[i] ?? 0, los[i] ?? 0, refs[i] ?? 0);
  }
}
