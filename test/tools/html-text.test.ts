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
});

describe('decodeEntities', () => {
  it('decodes named and numeric entities and leaves unknown ones', () => {
    expect(decodeEntities('&lt;a&gt; &amp;amp; &quot;q&quot; &#65;&#x42; &bogus; & alone')).toBe('<a> &amp; "q" AB &bogus; & alone');
  });
});
