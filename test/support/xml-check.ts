/**
 * A strict XML 1.0 well-formedness check for the documents we generate (SVG badges, Atom feeds): one root
 * element, properly nested and matching tags, quoted and unique attributes, only the predefined or numeric
 * entity references, no markup characters in text, an optional XML declaration and comments. It does not
 * handle DTDs, CDATA or processing instructions (we never emit them) and rejects them. Returns the root
 * element's name and the element names in document order, or throws naming the offset and the problem.
 */
const NAME = /^[A-Za-z_:][A-Za-z0-9_:.-]*/;
const REF = /^&(?:lt|gt|amp|quot|apos|#[0-9]{1,7}|#x[0-9A-Fa-f]{1,6});/;

function checkText(s: string, at: number): void {
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c === '<') throw new Error(`xml: '<' in text at ${at + i}`);
    if (c === '&') {
      const m = REF.exec(s.slice(i));
      if (!m) throw new Error(`xml: bad entity reference at ${at + i}`);
      i += m[0].length - 1;
    }
    const code = c.charCodeAt(0);
    if (code < 0x20 && c !== '\t' && c !== '\n' && c !== '\r') throw new Error(`xml: control character at ${at + i}`);
  }
}

export function checkWellFormedXml(doc: string): { root: string; elements: string[] } {
  let i = 0;
  if (doc.startsWith('<?xml')) {
    const end = doc.indexOf('?>');
    if (end < 0 || !/^<\?xml version="1\.[0-9]"( encoding="[A-Za-z0-9._-]+")?( standalone="(yes|no)")?\s*\?>$/.test(doc.slice(0, end + 2))) throw new Error('xml: bad XML declaration');
    i = end + 2;
  }
  const stack: string[] = [];
  const elements: string[] = [];
  let root: string | null = null;
  let closedRoot = false;
  while (i < doc.length) {
    const lt = doc.indexOf('<', i);
    const text = doc.slice(i, lt < 0 ? doc.length : lt);
    if (stack.length === 0) {
      if (text.trim() !== '') throw new Error(`xml: text outside the root element at ${i}`);
    } else checkText(text, i);
    if (lt < 0) break;
    i = lt;
    if (doc.startsWith('<!--', i)) {
      const end = doc.indexOf('-->', i + 4);
      if (end < 0 || doc.slice(i + 4, end).includes('--')) throw new Error(`xml: bad comment at ${i}`);
      i = end + 3;
      continue;
    }
    if (doc.startsWith('<!', i) || doc.startsWith('<?', i)) throw new Error(`xml: unsupported markup at ${i}`);
    const closing = doc[i + 1] === '/';
    let j = i + (closing ? 2 : 1);
    const nm = NAME.exec(doc.slice(j));
    if (!nm) throw new Error(`xml: expected a tag name at ${j}`);
    const name = nm[0];
    j += name.length;
    if (closing) {
      const m = /^\s*>/.exec(doc.slice(j));
      if (!m) throw new Error(`xml: bad end tag at ${i}`);
      if (stack.pop() !== name) throw new Error(`xml: end tag </${name}> does not match at ${i}`);
      if (stack.length === 0) closedRoot = true;
      i = j + m[0].length;
      continue;
    }
    if (closedRoot || (stack.length === 0 && root !== null)) throw new Error(`xml: second root element at ${i}`);
    const seen = new Set<string>();
    for (;;) {
      const ws = /^\s*/.exec(doc.slice(j))![0];
      j += ws.length;
      if (doc.startsWith('/>', j) || doc[j] === '>') break;
      if (ws.length === 0) throw new Error(`xml: expected whitespace before an attribute at ${j}`);
      const an = NAME.exec(doc.slice(j));
      if (!an) throw new Error(`xml: expected an attribute name at ${j}`);
      if (seen.has(an[0])) throw new Error(`xml: duplicate attribute ${an[0]} at ${j}`);
      seen.add(an[0]);
      j += an[0].length;
      const eq = /^\s*=\s*(["'])/.exec(doc.slice(j));
      if (!eq) throw new Error(`xml: attribute ${an[0]} needs a quoted value at ${j}`);
      j += eq[0].length;
      const close = doc.indexOf(eq[1]!, j);
      if (close < 0) throw new Error(`xml: unterminated attribute value at ${j}`);
      checkText(doc.slice(j, close), j);
      j = close + 1;
    }
    root ??= name;
    elements.push(name);
    if (doc.startsWith('/>', j)) {
      i = j + 2;
      if (stack.length === 0) closedRoot = true;
    } else {
      stack.push(name);
      i = j + 1;
    }
  }
  if (stack.length > 0) throw new Error(`xml: unclosed element <${stack[stack.length - 1]}>`);
  if (!root) throw new Error('xml: no root element');
  return { root, elements };
}
