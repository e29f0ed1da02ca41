import { describe, expect, it } from 'vitest';
import { IntrusiveList } from './intrusive-list.js';

interface Node {
  name: string;
  prev: Node | null;
  next: Node | null;
}
const node = (name: string): Node => ({ name, prev: null, next: null });
const names = (l: IntrusiveList<Node>): string[] => {
  const out: string[] = [];
  for (let n = l.head; n !== null; n = n.next) out.push(n.name);
  const back: string[] = [];
  for (let n = l.tail; n !== null; n = n.prev) back.push(n.name);
  expect(back.reverse()).toEqual(out); // both directions agree
  expect(l.size).toBe(out.length);
  return out;
};

describe('IntrusiveList', () => {
  it('appends at the tail and unlinks from the front, the middle and the back', () => {
    const l = new IntrusiveList<Node>();
    const [a, b, c, d] = ['a', 'b', 'c', 'd'].map(node) as [Node, Node, Node, Node];
    for (const n of [a, b, c, d]) l.append(n);
    expect(names(l)).toEqual(['a', 'b', 'c', 'd']);
    l.unlink(b);
    expect(names(l)).toEqual(['a', 'c', 'd']);
    expect(b.prev === null && b.next === null).toBe(true);
    l.unlink(a);
    l.unlink(d);
    expect(names(l)).toEqual(['c']);
    l.append(b); // re-appended after leaving: moves to the back
    l.unlink(c);
    l.unlink(b);
    expect(names(l)).toEqual([]);
    expect(l.head === null && l.tail === null).toBe(true);
  });
});
