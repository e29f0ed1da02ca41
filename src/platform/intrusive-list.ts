/** The links an IntrusiveList keeps in its values. */
export interface Linked<T> {
  prev: T | null;
  next: T | null;
}

/**
 * A doubly linked list threaded through its values (no wrapper object per entry): appending and unlinking
 * are a few pointer writes. A value is in at most one such list at a time, and `unlink` must only be given a
 * value that is in this list.
 */
export class IntrusiveList<T extends Linked<T>> {
  head: T | null = null;
  tail: T | null = null;
  size = 0;

  append(node: T): void {
    node.prev = this.tail;
    node.next = null;
    if (this.tail === null) this.head = node;
    else this.tail.next = node;
    this.tail = node;
    this.size++;
  }

  unlink(node: T): void {
    if (node.prev === null) this.head = node.next;
    else node.prev.next = node.next;
    if (node.next === null) this.tail = node.prev;
    else node.next.prev = node.prev;
    node.prev = null;
    node.next = null;
    this.size--;
  }
}
