/** The well-formedness checker used on badges and feeds must itself reject broken documents. */
import { describe, expect, it } from 'vitest';
import { checkWellFormedXml } from '../support/xml-check.js';

describe('checkWellFormedXml', () => {
  it('accepts a well-formed document and names its root', () => {
    expect(checkWellFormedXml('<?xml version="1.0" encoding="utf-8"?>\n<a x="1" y=\'&amp;\'><b/><!-- c --><c>t &lt; &#38; &#x26;</c></a>').root).toBe('a');
  });
  it.each([
    ['<a><b></a></b>', 'does not match'],
    ['<a>', 'unclosed'],
    ['<a x=1/>', 'quoted'],
    ['<a x="1" x="2"/>', 'duplicate'],
    ['<a>&nbsp;</a>', 'entity'],
    ['<a>x < y</a>', 'tag name'],
    ['<a/><b/>', 'second root'],
    ['text<a/>', 'outside'],
    ['<a x="<"/>', "'<'"],
    ['<a>\u0001</a>', 'control'],
    ['', 'no root'],
  ])('rejects %j', (doc, why) => {
    expect(() => checkWellFormedXml(doc)).toThrow(why);
  });
});
