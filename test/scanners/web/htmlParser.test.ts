import { describe, expect, it } from 'vitest';
import { decodeEntities, extractPage, refreshUrl, scriptUrls, tokenizeHtml } from '../../../scanners/web/htmlParser.js';

describe('HTML tokenizer', () => {
  it('reads tags with quoted, unquoted and valueless attributes, entities decoded, first one wins', () => {
    const html = `<a href="/x?a=1&amp;b=2" data-x='y' hidden class=big href="/second">link</a>`;
    const [start, text, end] = tokenizeHtml(html);
    expect(start).toMatchObject({ type: 'start', name: 'a', selfClosing: false, start: 0 });
    if (start?.type !== 'start') throw new Error('start tag expected');
    expect(start.attrs.get('href')).toBe('/x?a=1&b=2');
    expect(start.attrs.get('data-x')).toBe('y');
    expect(start.attrs.get('hidden')).toBe('');
    expect(start.attrs.get('class')).toBe('big');
    expect(start.attrList.filter(([n]) => n === 'href')).toHaveLength(2);
    expect(text).toMatchObject({ type: 'text' });
    expect(end).toMatchObject({ type: 'end', name: 'a' });
  });

  it('keeps script, style, textarea and title content as raw text (no tags inside)', () => {
    const html = '<script>if (a < b) { x = "<b>"; }</script><textarea><img src=x></textarea><p>t</p>';
    const tokens = tokenizeHtml(html);
    expect(tokens.map((t) => t.type)).toEqual([
      'start',
      'rawtext',
      'end',
      'start',
      'rawtext',
      'end',
      'start',
      'text',
      'end',
    ]);
    const raw = tokens.filter((t) => t.type === 'rawtext');
    expect(raw.map((t) => (t.type === 'rawtext' ? [t.parent, t.text] : null))).toEqual([
      ['script', 'if (a < b) { x = "<b>"; }'],
      ['textarea', '<img src=x>'],
    ]);
  });

  it('reads comments, doctypes and stray "<" without losing the rest', () => {
    const tokens = tokenizeHtml('<!DOCTYPE html><!-- a <b> c -->1 < 2<br/>');
    expect(tokens[0]).toMatchObject({ type: 'comment', text: 'DOCTYPE html' });
    expect(tokens[1]).toMatchObject({ type: 'comment', text: ' a <b> c ' });
    expect(tokens.at(-1)).toMatchObject({ type: 'start', name: 'br', selfClosing: true });
  });

  it('decodes numeric and common named references', () => {
    expect(decodeEntities('&lt;&#x3c;&#60;&quot;&apos;&amp;&colon;&unknown;')).toBe('<<<"\'&:&unknown;');
  });
});

describe('page extraction', () => {
  const html = `<!DOCTYPE html><html><head>
    <base href="/app/">
    <meta http-equiv="refresh" content="30; url=/later">
    <meta http-equiv="Content-Security-Policy" content="default-src 'self'">
    <link rel="stylesheet" href="/s.css"><link rel="alternate" href="/feed">
    <script src="https://cdn.example.net/lib.js" integrity="sha384-abc"></script>
    <script>// TODO fix\nvar a = 1;</script>
  </head><body>
    <a href="/a">A</a><area href="/b"><iframe src="/frame"></iframe><img src="/i.png">
    <!-- hidden note -->
    <form action="/login" method="POST" id="f1">
      <input type="hidden" name="csrf" value="t0k3n">
      <input name="user"><input type="password" name="pass">
      <input type="checkbox" name="remember" value="yes">
      <select name="lang"><option value="en">EN</option><option value="fr" selected>FR</option></select>
      <textarea name="bio">Hi &amp; bye</textarea>
      <button name="go" value="1">Go</button><input type="submit" value="Send">
    </form>
    <form><input name="q"></form>
  </body></html>`;
  const page = extractPage(html);

  it('collects links, frames, meta refresh, scripts, resources, comments and the base', () => {
    expect(page.links).toEqual(expect.arrayContaining(['/a', '/b', '/frame', '/later', '/feed']));
    expect(page.links).not.toContain('/s.css');
    expect(page.resources.map((r) => r.url)).toEqual(expect.arrayContaining(['/s.css', '/i.png']));
    expect(page.scripts).toEqual([
      expect.objectContaining({ src: 'https://cdn.example.net/lib.js', integrity: 'sha384-abc' }),
    ]);
    expect(page.inlineScripts[0]?.text).toContain('TODO');
    expect(page.comments.map((c) => c.text.trim())).toContain('hidden note');
    expect(page.base).toBe('/app/');
    expect(page.metaHttpEquiv.get('content-security-policy')).toBe("default-src 'self'");
  });

  it('reads forms with their fields and default values', () => {
    expect(page.forms).toHaveLength(2);
    const [login, search] = page.forms;
    expect(login).toMatchObject({ action: '/login', method: 'POST', id: 'f1' });
    expect(login!.fields).toEqual([
      { name: 'csrf', type: 'hidden', value: 't0k3n' },
      { name: 'user', type: 'text', value: '' },
      { name: 'pass', type: 'password', value: '' },
      { name: 'remember', type: 'checkbox', value: 'yes' },
      { name: 'lang', type: 'select', value: 'fr' },
      { name: 'bio', type: 'textarea', value: 'Hi & bye' },
      { name: 'go', type: 'button', value: '1' },
    ]);
    expect(search).toMatchObject({ action: '', method: 'GET', fields: [{ name: 'q', type: 'text', value: '' }] });
  });

  it('reads refresh URLs', () => {
    expect(refreshUrl("0; URL='https://example.com/x'")).toBe('https://example.com/x');
    expect(refreshUrl('5')).toBeNull();
  });
});

describe('URLs named in JavaScript', () => {
  it('finds navigation, fetch and jQuery calls, and quoted page paths; nothing evaluated', () => {
    const js = `
      if (x) window.location.href = '/next.php?step=2';
      fetch("/api/items.json").then(r => r.json());
      $.post('/cart/add', { id: 1 });
      var page = "report.html", dynamic = '/user/' + id, js = 'javascript:void(0)';
      $.ajax({ url: '/search', type: 'GET' });`;
    expect(scriptUrls(js).sort()).toEqual([
      '/api/items.json',
      '/cart/add',
      '/next.php?step=2',
      '/search',
      'report.html',
    ]);
  });
});
