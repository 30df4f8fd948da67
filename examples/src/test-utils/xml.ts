/**
 * A small XML well-formedness check for the tests (no dependency): every tag
 * closed in order, attributes quoted and unique, no raw `<` or stray `&` in
 * text or attribute values. Returns the elements, in document order, with
 * their attributes, so a test can look for what it expects.
 */

/** One element of a parsed document. */
export interface XmlElement {
  name: string;
  attrs: Record<string, string>;
  /** The names of the enclosing elements, outermost first. */
  ancestors: string[];
  /** The text directly inside the element (entities left as written). */
  text: string;
}

const ENTITY = /&(?:amp|lt|gt|quot|apos|#\d+|#x[0-9a-fA-F]+);/g;

function checkText(text: string, where: string): void {
  if (text.includes('<')) throw new Error(`xml: raw '<' in ${where}`);
  if (text.replace(ENTITY, '').includes('&')) throw new Error(`xml: stray '&' in ${where}`);
}

/** Parses `doc`, throwing an Error that says what is wrong if it is not well-formed XML with one root element. */
export function parseXml(doc: string): XmlElement[] {
  const elements: XmlElement[] = [];
  const stack: XmlElement[] = [];
  let roots = 0;
  let i = 0;
  const src = doc.replace(/^\uFEFF/, '');
  while (i < src.length) {
    const lt = src.indexOf('<', i);
    const text = lt < 0 ? src.slice(i) : src.slice(i, lt);
    if (stack.length === 0 && text.trim() !== '')
      throw new Error(`xml: text outside the root element: ${JSON.stringify(text.trim().slice(0, 40))}`);
    checkText(text, `text at offset ${i}`);
    if (stack.length > 0) (stack.at(-1) as XmlElement).text += text;
    if (lt < 0) break;
    if (src.startsWith('<!--', lt)) {
      const end = src.indexOf('-->', lt + 4);
      if (end < 0) throw new Error('xml: unterminated comment');
      i = end + 3;
      continue;
    }
    if (src.startsWith('<?', lt)) {
      const end = src.indexOf('?>', lt + 2);
      if (end < 0) throw new Error('xml: unterminated processing instruction');
      i = end + 2;
      continue;
    }
    const gt = src.indexOf('>', lt);
    if (gt < 0) throw new Error(`xml: unterminated tag at offset ${lt}`);
    const tag = src.slice(lt + 1, gt);
    if (tag.startsWith('/')) {
      const name = tag.slice(1).trim();
      const open = stack.pop();
      if (!open || open.name !== name) throw new Error(`xml: </${name}> closes ${open ? `<${open.name}>` : 'nothing'}`);
    } else {
      const selfClosing = tag.endsWith('/');
      const body = selfClosing ? tag.slice(0, -1) : tag;
      const m = /^([A-Za-z_][\w:.-]*)/.exec(body);
      if (!m) throw new Error(`xml: bad tag <${tag.slice(0, 30)}>`);
      const name = m[1] as string;
      const attrs: Record<string, string> = {};
      let rest = body.slice(name.length);
      const attr = /^\s+([A-Za-z_][\w:.-]*)\s*=\s*("([^"]*)"|'([^']*)')/;
      for (let a = attr.exec(rest); a; a = attr.exec(rest)) {
        const key = a[1] as string;
        if (key in attrs) throw new Error(`xml: attribute ${key} repeated on <${name}>`);
        const value = (a[3] ?? a[4]) as string;
        checkText(value, `attribute ${key} of <${name}>`);
        attrs[key] = value;
        rest = rest.slice(a[0].length);
      }
      if (rest.trim() !== '') throw new Error(`xml: cannot read the attributes of <${name}>: ${JSON.stringify(rest.trim().slice(0, 40))}`);
      if (stack.length === 0) roots += 1;
      const el: XmlElement = { name, attrs, ancestors: stack.map((s) => s.name), text: '' };
      elements.push(el);
      if (!selfClosing) stack.push(el);
    }
    i = gt + 1;
  }
  if (stack.length > 0) throw new Error(`xml: <${(stack.at(-1) as XmlElement).name}> is never closed`);
  if (roots !== 1) throw new Error(`xml: expected one root element, found ${roots}`);
  return elements;
}
