/**
 * HTML to plain text, by a small scanner rather than regular expressions over markup: tags are
 * dropped; `script`, `style`, `noscript`, `template`, `svg` and `head` contents are skipped (the
 * `title` is kept); block elements are separated by blank lines; list items ("- ") and table rows
 * start lines; `pre` keeps its spacing; common entities are decoded. Good enough to read a page,
 * not a renderer.
 */
const SKIP = new Set(['script', 'style', 'noscript', 'template', 'svg', 'iframe', 'object']);
const BLOCK = new Set([
  'p', 'div', 'section', 'article', 'header', 'footer', 'nav', 'aside', 'main', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6',
  'ul', 'ol', 'dl', 'table', 'blockquote', 'pre', 'figure', 'figcaption', 'form', 'hr', 'title', 'details', 'summary',
]);
/** Elements that start a line but do not end a paragraph (list items and rows sit on consecutive lines). */
const LINE = new Set(['li', 'dt', 'dd', 'tr', 'br']);
const NAMED: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' ', mdash: '—', ndash: '–', hellip: '…', copy: '©', reg: '®', laquo: '«', raquo: '»', rsquo: '’', lsquo: '‘', rdquo: '”', ldquo: '“' };

export function decodeEntities(text: string): string {
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const ch = text[i] as string;
    const end = ch === '&' ? text.indexOf(';', i) : -1;
    if (end === -1 || end - i > 10) {
      out += ch;
      continue;
    }
    const name = text.slice(i + 1, end);
    let decoded: string | undefined;
    if (name.startsWith('#x') || name.startsWith('#X')) decoded = codePoint(Number.parseInt(name.slice(2), 16));
    else if (name.startsWith('#')) decoded = codePoint(Number.parseInt(name.slice(1), 10));
    else decoded = NAMED[name.toLowerCase()];
    if (decoded === undefined) {
      out += ch;
      continue;
    }
    out += decoded;
    i = end;
  }
  return out;
}

function codePoint(n: number): string | undefined {
  return Number.isInteger(n) && n > 0 && n <= 0x10ffff ? String.fromCodePoint(n) : undefined;
}

/** The tag name at `<…`: lower case, without `/`, or '' for comments and declarations. */
function tagName(tag: string): { name: string; closing: boolean } {
  const closing = tag.startsWith('/');
  let name = '';
  for (const ch of closing ? tag.slice(1) : tag) {
    if (/[A-Za-z0-9-]/.test(ch)) name += ch;
    else break;
  }
  return { name: name.toLowerCase(), closing };
}

/** The line without the spaces and tabs at its end, by a loop: /[ \t]+$/ tries every run of blanks inside the line, in time quadratic in a long one (a page's <pre>). */
function trimBlanksEnd(line: string): string {
  let end = line.length;
  while (end > 0 && (line[end - 1] === ' ' || line[end - 1] === '\t')) end--;
  return line.slice(0, end);
}

export function htmlToText(html: string): string {
  const parts: string[] = [];
  let skipping: string | undefined;
  let inHead = false;
  let inTitle = false;
  let pre = 0;
  let i = 0;
  while (i < html.length) {
    if (html.startsWith('<!--', i)) {
      const end = html.indexOf('-->', i + 4);
      i = end === -1 ? html.length : end + 3;
      continue;
    }
    if (html[i] === '<' && /[A-Za-z/!?]/.test(html[i + 1] ?? '')) {
      const end = html.indexOf('>', i + 1);
      if (end === -1) break;
      const { name, closing } = tagName(html.slice(i + 1, end));
      i = end + 1;
      if (skipping) {
        if (closing && name === skipping) skipping = undefined;
        continue;
      }
      if (!closing && SKIP.has(name) && html[end - 1] !== '/') skipping = name;
      else if (name === 'head') inHead = !closing;
      else if (name === 'title') inTitle = !closing;
      else if (name === 'pre') pre += closing ? -1 : 1;
      if (BLOCK.has(name) || (LINE.has(name) && !closing)) parts.push('\n');
      if (name === 'li' && !closing) parts.push('- ');
      if ((name === 'td' || name === 'th') && !closing) parts.push(' ');
      continue;
    }
    const next = html.indexOf('<', i + 1);
    const end = next === -1 ? html.length : next;
    const chunk = html.slice(i, end);
    i = end;
    if (skipping || (inHead && !inTitle)) continue;
    const text = decodeEntities(chunk);
    parts.push(pre > 0 ? text : text.replace(/\s+/g, ' '));
  }
  return parts
    .join('')
    .split('\n')
    .map((line) => trimBlanksEnd(line).replace(/^ (?=\S)/, ''))
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}
