/**
 * Spatial index over backends with a known location: a k-d tree over unit vectors on the sphere
 * (chord length grows monotonically with great-circle distance), with per-node counts of indexed
 * members per tier so that subtrees without a candidate for the tier are skipped.
 *
 * Search is branch-and-bound, nearer child first: a node is visited only when its box could hold
 * a point closer than the visitor's current threshold (`thr2`, a squared chord from `pruneChord2`).
 * The visitor lowers the threshold as it finds better candidates. Since every score term is ≥ 0,
 * distance is a lower bound on the full score, which makes this exact.
 *
 * Updates: membership changes adjust the counts along the leaf-to-root path (O(depth)). New or
 * moved points go to a small side list that every search scans; removed points stay in their leaf
 * as ghosts (skipped). The tree is rebuilt lazily, at the next search, when the side list or the
 * ghosts grow past a bound.
 */

export interface KdItem {
  readonly id: string;
  /** Unit vector of the item's location. */
  ux: number;
  uy: number;
  uz: number;
  /** member[t] = 1 when the item is a candidate for tier slot t. */
  readonly member: Uint8Array;
  /** The leaf holding the item, null when it is in the side list or not indexed. */
  kdLeaf: KdNode<KdItem> | null;
}

export interface KdNode<T extends KdItem> {
  minX: number;
  maxX: number;
  minY: number;
  maxY: number;
  minZ: number;
  maxZ: number;
  left: KdNode<T> | null;
  right: KdNode<T> | null;
  parent: KdNode<T> | null;
  items: T[] | null;
  counts: Int32Array;
}

export interface KdVisitor<T> {
  /** Squared chord threshold: nodes farther than this are skipped. */
  thr2: number;
  visit(item: T): void;
}

const LEAF_SIZE = 8;
const SIDE_LIMIT = 32;

export class KdIndex<T extends KdItem> {
  private root: KdNode<T> | null = null;
  private side: T[] = [];
  private inTree = 0;
  private ghosts = 0;

  constructor(private readonly slots: number) {}

  /** Items in the index (tree + side list). */
  get size(): number {
    return this.inTree + this.side.length;
  }

  /** Adds an item (its unit vector must be set). */
  add(x: T): void {
    x.kdLeaf = null;
    this.side.push(x);
  }

  /** Removes an item; membership counts it still contributes are withdrawn first. */
  remove(x: T): void {
    const leaf = x.kdLeaf as KdNode<T> | null;
    if (leaf !== null) {
      for (let t = 0; t < this.slots; t++) if (x.member[t] === 1) this.adjust(leaf, t, -1);
      x.kdLeaf = null;
      this.inTree--;
      this.ghosts++;
      return;
    }
    const i = this.side.indexOf(x);
    if (i >= 0) {
      this.side[i] = this.side[this.side.length - 1]!;
      this.side.pop();
    }
  }

  /** Call after flipping x.member[t] (delta = +1 when it became a member, −1 when it left). */
  memberChanged(x: T, t: number, delta: 1 | -1): void {
    const leaf = x.kdLeaf as KdNode<T> | null;
    if (leaf !== null) this.adjust(leaf, t, delta);
  }

  search(t: number, qx: number, qy: number, qz: number, v: KdVisitor<T>): void {
    if (this.side.length > SIDE_LIMIT || this.ghosts > (this.inTree >> 2) + SIDE_LIMIT) this.rebuild();
    if (this.root !== null) this.searchNode(this.root, t, qx, qy, qz, v);
    const side = this.side;
    for (let i = 0; i < side.length; i++) v.visit(side[i]!);
  }

  /** Consistency check for tests: every node's counts equal the members below it. */
  verify(): string[] {
    const problems: string[] = [];
    const walk = (n: KdNode<T>): Int32Array => {
      const below = new Int32Array(this.slots);
      if (n.items !== null) {
        for (const p of n.items) if ((p.kdLeaf as unknown) === n) for (let t = 0; t < this.slots; t++) below[t]! += p.member[t]!;
      } else {
        const l = walk(n.left!);
        const r = walk(n.right!);
        for (let t = 0; t < this.slots; t++) below[t] = l[t]! + r[t]!;
      }
      for (let t = 0; t < this.slots; t++) if (below[t] !== n.counts[t]) problems.push(`kd node count[${t}] ${n.counts[t]} != ${below[t]}`);
      return below;
    };
    if (this.root !== null) walk(this.root);
    return problems;
  }

  /** Rebuilds the tree from every live item. */
  rebuild(): void {
    const all: T[] = [...this.side];
    if (this.root !== null) collectLive(this.root, all);
    this.side = [];
    this.ghosts = 0;
    this.inTree = all.length;
    this.root = all.length === 0 ? null : this.build(all, 0, all.length, null);
  }

  private build(a: T[], lo: number, hi: number, parent: KdNode<T> | null): KdNode<T> {
    let minX = Infinity, maxX = -Infinity, minY = Infinity, maxY = -Infinity, minZ = Infinity, maxZ = -Infinity; // prettier-ignore
    for (let i = lo; i < hi; i++) {
      const p = a[i]!;
      if (p.ux < minX) minX = p.ux;
      if (p.ux > maxX) maxX = p.ux;
      if (p.uy < minY) minY = p.uy;
      if (p.uy > maxY) maxY = p.uy;
      if (p.uz < minZ) minZ = p.uz;
      if (p.uz > maxZ) maxZ = p.uz;
    }
    const node: KdNode<T> = { minX, maxX, minY, maxY, minZ, maxZ, left: null, right: null, parent, items: null, counts: new Int32Array(this.slots) };
    if (hi - lo <= LEAF_SIZE) {
      const items = a.slice(lo, hi);
      node.items = items;
      for (const p of items) {
        p.kdLeaf = node as unknown as KdNode<KdItem>;
        for (let t = 0; t < this.slots; t++) if (p.member[t] === 1) node.counts[t]!++;
      }
      return node;
    }
    const dx = maxX - minX;
    const dy = maxY - minY;
    const dz = maxZ - minZ;
    const sub = a.slice(lo, hi);
    if (dx >= dy && dx >= dz) sub.sort((p, q) => p.ux - q.ux);
    else if (dy >= dz) sub.sort((p, q) => p.uy - q.uy);
    else sub.sort((p, q) => p.uz - q.uz);
    for (let i = 0; i < sub.length; i++) a[lo + i] = sub[i]!;
    const mid = (lo + hi) >>> 1;
    node.left = this.build(a, lo, mid, node);
    node.right = this.build(a, mid, hi, node);
    for (let t = 0; t < this.slots; t++) node.counts[t] = node.left.counts[t]! + node.right.counts[t]!;
    return node;
  }

  private adjust(leaf: KdNode<T>, t: number, delta: number): void {
    for (let n: KdNode<T> | null = leaf; n !== null; n = n.parent) n.counts[t]! += delta;
  }

  private searchNode(n: KdNode<T>, t: number, qx: number, qy: number, qz: number, v: KdVisitor<T>): void {
    if (n.counts[t] === 0) return;
    if (boxDist2(n, qx, qy, qz) > v.thr2) return;
    const items = n.items;
    if (items !== null) {
      for (let i = 0; i < items.length; i++) {
        const p = items[i]!;
        if ((p.kdLeaf as unknown) === n) v.visit(p);
      }
      return;
    }
    const l = n.left!;
    const r = n.right!;
    if (boxDist2(l, qx, qy, qz) <= boxDist2(r, qx, qy, qz)) {
      this.searchNode(l, t, qx, qy, qz, v);
      this.searchNode(r, t, qx, qy, qz, v);
    } else {
      this.searchNode(r, t, qx, qy, qz, v);
      this.searchNode(l, t, qx, qy, qz, v);
    }
  }
}

function collectLive<T extends KdItem>(n: KdNode<T>, out: T[]): void {
  if (n.items !== null) {
    for (const p of n.items) if ((p.kdLeaf as unknown) === n) out.push(p);
    return;
  }
  if (n.left !== null) collectLive(n.left, out);
  if (n.right !== null) collectLive(n.right, out);
}

function boxDist2<T extends KdItem>(n: KdNode<T>, x: number, y: number, z: number): number {
  const dx = x < n.minX ? n.minX - x : x > n.maxX ? x - n.maxX : 0;
  const dy = y < n.minY ? n.minY - y : y > n.maxY ? y - n.maxY : 0;
  const dz = z < n.minZ ? n.minZ - z : z > n.maxZ ? z - n.maxZ : 0;
  return dx * dx + dy * dy + dz * dz;
}
