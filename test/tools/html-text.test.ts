import { describe, expect, it } from 'vitest';
import { decodeEntities, htmlToText } from '../../src/tools/html-text.ts';

describe('htmlToText', () => {
  it('drops tags, scripts, styles and comments and keeps the text', () => {
    expect(htmlToText('<div>a<script>x<y>z</script>b<style>p{}</style><!-- c --><b>c</b></div>')).toBe('abc');
    expect(htmlToText('<p>one</p><p>two</p>')).toBe('one\n\ntwo');
    expect(htmlToText('<table><tr><td>a</td><td>b</td></tr><tr><td>c</td></tr></table>')).toBe('a b\nc');
    expect(htmlToText('line<br>next<br/>last')).toBe('line\nnext\nlast');
  });

  it('leaves text that only looks like markup alone', () => {
    expect(htmlToText('<p>if a < b and c > d</p>')).toBe('if a < b and c > d');
    expect(htmlToText('<p>unclosed <b')).toBe('unclosed');
  });

  it('collapses whitespace outside pre', () => {
    expect(htmlToText('<p>  many\n\n   spaces  </p><pre>a\n  b</pre>')).toBe('many spaces\n\na\n  b');
  });

  it("takes time linear in a page's blanks: a <pre> line of a million spaces", () => {
    const started = performance.now();
    // /[ \t]+$/ took 6.7 s on 80,000 spaces, and hours on this.
    expect(htmlToText(`<pre>a${' \t'.repeat(500_000)}b  \t\nc \n</pre>`)).toBe(`a${' \t'.repeat(500_000)}b\nc`);
    expect(performance.now() - started).toBeLessThan(10_000);
  });
});

describe('decodeEntities', () => {
  it('decodes named and numeric entities and leaves unknown ones', () => {
    expect(decodeEntities('&lt;a&gt; &amp;amp; &quot;q&quot; &#65;&#x42; &bogus; & alone')).toBe('<a> &amp; "q" AB &bogus; & alone');
  });
});
