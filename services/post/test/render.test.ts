// Post bodies as safe HTML: the markdown subset renders as expected, and no script, style,
// event handler or javascript: URL survives, over a corpus of known XSS payloads and thousands
// of generated mixes of their pieces. Every output is parsed with a real HTML parser
// (htmlparser2, the one browsers' behaviour is modelled on in sanitize-html) and checked
// element by element, attribute by attribute.
import assert from 'node:assert/strict';
import { describe, it } from 'vitest';
import { createRng } from '@hearth/testkit';
import { parseDocument } from 'htmlparser2';

/** A parsed node as far as the checks read it. */
interface ParsedNode {
  readonly type: string;
  readonly name?: string;
  readonly attribs?: Record<string, string>;
  readonly children?: readonly ParsedNode[];
}
import { renderBody } from '../src/service/render.js';

const TAGS = new Set(['p', 'br', 'em', 'strong', 's', 'del', 'ul', 'ol', 'li', 'blockquote', 'code', 'pre', 'a', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'hr']);
const ATTRIBUTES: Record<string, Set<string>> = { a: new Set(['href', 'rel', 'target']), ol: new Set(['start']) };

/** What a browser would treat as the URL's scheme: control characters and whitespace ignored. */
function scheme(url: string): string | undefined {
  // eslint-disable-next-line no-control-regex -- browsers skip control characters in URLs; so must the check
  const cleaned = url.replace(/[\u0000-\u0020\u007f-\u009f]/g, '').toLowerCase();
  return /^([a-z][a-z0-9+.-]*):/.exec(cleaned)?.[1];
}

function assertSafe(source: string): string {
  const html = renderBody(source);
  const walk = (nodes: readonly ParsedNode[]) => {
    for (const node of nodes) {
      if (node.type === 'directive' || node.type === 'cdata') assert.fail(`a ${node.type} in ${JSON.stringify(html)}`);
      // Elements (tags, and <script>/<style>, which the parser types apart) have a name.
      if (node.name === undefined) continue;
      const el = { name: node.name, attribs: node.attribs ?? {}, children: node.children ?? [] };
      assert.ok(TAGS.has(el.name), `<${el.name}> from ${JSON.stringify(source)}: ${html}`);
      for (const [name, value] of Object.entries(el.attribs)) {
        assert.ok(ATTRIBUTES[el.name]?.has(name), `${el.name}[${name}] from ${JSON.stringify(source)}: ${html}`);
        if (name === 'href') {
          const s = scheme(value);
          assert.ok(s === 'http' || s === 'https' || s === 'mailto', `href ${JSON.stringify(value)} from ${JSON.stringify(source)}`);
          assert.ok(s === 'mailto' || /^https?:\/\//i.test(value), `an absolute link: ${JSON.stringify(value)}`);
        }
      }
      if (el.name === 'a' && el.attribs.href !== undefined) assert.equal(el.attribs.rel, 'nofollow noopener noreferrer ugc');
      walk(el.children);
    }
  };
  walk(parseDocument(html, { decodeEntities: true }).children as unknown as ParsedNode[]);
  return html;
}

// Known payloads (OWASP's XSS filter evasion cheat sheet and markdown-specific ones).
const CORPUS = [
  '<script>alert(1)</script>',
  '<SCRIPT SRC=https://xss.example/xss.js></SCRIPT>',
  '<img src=x onerror=alert(1)>',
  '<IMG SRC="javascript:alert(1);">',
  '<svg onload=alert(1)>',
  '<svg><script>alert(1)</script></svg>',
  '<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>',
  '<iframe src="javascript:alert(1)"></iframe>',
  '<object data="javascript:alert(1)">',
  '<embed src="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">',
  '<a href="javascript:alert(1)">x</a>',
  '<a href="jav&#x09;ascript:alert(1)">x</a>',
  '<details open ontoggle=alert(1)>',
  '<body onload=alert(1)>',
  '<style>@import url(https://xss.example/x.css);</style>',
  '<div style="background:url(javascript:alert(1))">x</div>',
  '<!--<script>alert(1)</script>-->',
  '<![CDATA[<script>alert(1)</script>]]>',
  '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">',
  '<base href="javascript:alert(1)//">',
  '<form action="javascript:alert(1)"><button>x</button></form>',
  '<input autofocus onfocus=alert(1)>',
  '"><script>alert(1)</script>',
  "'><img src=x onerror=alert(1)>",
  '[x](javascript:alert(1))',
  '[x](JaVaScRiPt:alert(1))',
  '[x](javascript&#58;alert(1))',
  '[x](&#106;avascript:alert(1))',
  '[x](java\tscript:alert(1))',
  '[x]( javascript:alert(1))',
  '[x](<javascript:alert(1)>)',
  '[x](vbscript:msgbox(1))',
  '[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)',
  '[x](file:///etc/passwd)',
  '[x](//xss.example)',
  '[x](https://ok.example "title" onclick="alert(1)")',
  '[x]: javascript:alert(1)\n\n[x]',
  '<javascript:alert(1)>',
  '<https://ok.example/"onmouseover="alert(1)>',
  '![x](javascript:alert(1))',
  '![x](https://xss.example/x.png" onerror="alert(1))',
  '[![x](https://i.example/i.png)](javascript:alert(1))',
  'javascript:alert(1)',
  'https://ok.example/<script>alert(1)</script>',
  '`<script>alert(1)</script>`',
  '```html\n<script>alert(1)</script>\n```',
  '> <script>alert(1)</script>',
  '- <img src=x onerror=alert(1)>',
  '**<a href="javascript:alert(1)">bold</a>**',
  '[a](https://ok.example)<script>alert(1)</script>',
  '<scr<script>ipt>alert(1)</scr</script>ipt>',
  '&lt;script&gt;alert(1)&lt;/script&gt;',
  '\u0000<script>alert(1)</script>',
  '[x](\u0001javascript:alert(1))',
  '<a href="&#0000106&#0000097&#0000118&#0000097&#0000115&#0000099&#0000114&#0000105&#0000112&#0000116&#0000058alert(1)">x</a>',
];

describe('post bodies as HTML', () => {
  it('renders the markdown subset: emphasis, lists, quotes, code, links (bare URLs too), line breaks', () => {
    assert.equal(renderBody('**hi** _there_ ~~gone~~'), '<p><strong>hi</strong> <em>there</em> <s>gone</s></p>\n');
    assert.equal(renderBody('line one\nline two'), '<p>line one<br />\nline two</p>\n');
    assert.equal(renderBody('> quoted\n\n- a\n- b'), '<blockquote>\n<p>quoted</p>\n</blockquote>\n<ul>\n<li>a</li>\n<li>b</li>\n</ul>\n');
    assert.equal(renderBody('`x < y`'), '<p><code>x &lt; y</code></p>\n');
    assert.equal(
      renderBody('see https://help.example/a?b=1'),
      '<p>see <a href="https://help.example/a?b=1" rel="nofollow noopener noreferrer ugc" target="_blank">https://help.example/a?b=1</a></p>\n',
    );
    assert.equal(renderBody('[call](mailto:help@example.org)').includes('href="mailto:help@example.org"'), true);
    assert.ok(!renderBody('![me](https://i.example/me.png)').includes('<img'), 'no images');
  });

  it(`lets no script, style, handler or unsafe URL through ${CORPUS.length} known payloads, showing raw HTML as text`, () => {
    for (const payload of CORPUS) assertSafe(payload);
    assert.equal(renderBody('<b>bold?</b>'), '<p>&lt;b&gt;bold?&lt;/b&gt;</p>\n', 'raw HTML is text, not markup');
  });

  it('keeps every generated mix of those pieces safe (3,000 bodies)', () => {
    const pieces = [
      '<', '>', '"', "'", '`', '(', ')', '[', ']', '!', '*', '_', '~', '&', '#', ';', ':', '/', '\\', '\n', '\t', ' ', '\u0000', '\u00a0',
      'javascript:', 'JaVaScRiPt:', 'vbscript:', 'data:text/html,', 'https://ok.example/', 'mailto:a@b.example', '//xss.example',
      '&#106;', '&#x6A;', '&colon;', '&lt;', '&gt;', '&quot;',
      '<script>', '</script>', '<img src=x', ' onerror=alert(1)', '<a href="', '<svg', ' onload=', '<style>', '<iframe', '<!--', '-->',
      '[x](', '](', '![x](', '<https://', '```\n', '> ', '- ', '1. ', '# ', '**', '~~', 'alert(1)', 'x',
    ];
    const rnd = createRng(20261201);
    for (let i = 0; i < 3000; i++) {
      const n = 1 + rnd.int(24);
      let body = '';
      for (let k = 0; k < n; k++) body += rnd.pick(pieces);
      assertSafe(body);
    }
  });
});
