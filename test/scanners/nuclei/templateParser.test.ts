import { describe, expect, it } from 'vitest';
import { parseTemplate, TemplateError } from '../../../scanners/nuclei/templateParser.js';

const HEADER = `id: sample-check
info:
  name: Sample check
  author: someone
  severity: high
`;

/** The issues of a template that must be refused. */
function refusal(yaml: string) {
  try {
    parseTemplate(yaml);
  } catch (error) {
    expect(error).toBeInstanceOf(TemplateError);
    return (error as TemplateError).issues;
  }
  throw new Error('the template was accepted');
}

describe('parseTemplate: valid templates', () => {
  it('reads a full template: info, classification, paths, headers, body, redirects, matchers and extractors', () => {
    const template = parseTemplate(`id: full-example
info:
  name: Full example
  author: alice, bob
  severity: critical
  description: Something bad.
  remediation: Fix it.
  reference:
    - https://example.com/a
    - https://example.com/b
  classification:
    cve-id: CVE-2021-41773
    cwe-id: CWE-22,CWE-200
    cvss-score: 7.5
    cvss-metrics: CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N
  metadata:
    confidence: low
  tags: cve,apache
stop-at-first-match: true
http:
  - method: post
    path:
      - "{{BaseURL}}/login?next={{Path}}"
      - "{{RootURL}}/"
    headers:
      X-Probe: "{{Hostname}}"
    body: "user={{Host}}&port={{Port}}"
    redirects: true
    max-redirects: 3
    matchers-condition: and
    matchers:
      - type: word
        part: header
        words: ["Set-Cookie"]
        case-insensitive: true
        condition: and
      - type: regex
        regex: ['(?i)welcome\\s+back']
      - type: status
        status: [200, 302]
      - type: size
        size: [1024]
        negative: true
      - type: binary
        binary: ["504b0304"]
        negative: true
      - type: dsl
        name: small
        dsl:
          - "len(body) < 5000 && status_code == 200"
    extractors:
      - type: regex
        group: 1
        regex: ['version ([0-9.]+)']
      - type: kval
        kval: [x_powered_by, Content-Type]
      - type: json
        json: [".version", ".items[].name"]
`);
    expect(template.id).toBe('full-example');
    expect(template.info).toMatchObject({
      author: ['alice', 'bob'],
      severity: 'critical',
      reference: ['https://example.com/a', 'https://example.com/b'],
      tags: ['cve', 'apache'],
      classification: { 'cve-id': ['CVE-2021-41773'], 'cwe-id': ['CWE-22', 'CWE-200'], 'cvss-score': 7.5 },
    });
    expect(template.stopAtFirstMatch).toBe(true);
    expect(template.requestCount).toBe(2);
    const block = template.blocks[0]!;
    expect(block.requests[0]).toEqual({
      method: 'POST',
      base: 'BaseURL',
      rest: '/login?next={{Path}}',
      headers: { 'X-Probe': '{{Hostname}}' },
      body: 'user={{Host}}&port={{Port}}',
    });
    expect(block.requests[1]).toMatchObject({ base: 'RootURL', rest: '/' });
    expect(block).toMatchObject({ redirects: true, maxRedirects: 3, matchersCondition: 'and' });
    expect(block.matchers.map((m) => m.type)).toEqual(['word', 'regex', 'status', 'size', 'binary', 'dsl']);
    expect(block.matchers[0]).toMatchObject({
      part: 'header',
      condition: 'and',
      caseInsensitive: true,
      words: ['set-cookie'],
    });
    expect(block.extractors.map((e) => e.type)).toEqual(['regex', 'kval', 'json']);
  });

  it('reads raw requests: method, path merged onto the target path, headers and body', () => {
    const template = parseTemplate(`${HEADER}http:
  - raw:
      - |
        POST /api/login HTTP/1.1
        Host: {{Hostname}}
        Content-Type: application/json
        Content-Length: 99

        {"user":"admin"}
    matchers:
      - type: status
        status: [200]
`);
    expect(template.blocks[0]!.requests[0]).toEqual({
      method: 'POST',
      base: 'raw',
      rest: '/api/login',
      headers: { Host: '{{Hostname}}', 'Content-Type': 'application/json' },
      body: '{"user":"admin"}',
    });
  });

  it('accepts the older key `requests`, defaults and a missing severity (unknown)', () => {
    const template = parseTemplate(`id: old-style
info:
  name: Old
  author: x
requests:
  - path: ["{{BaseURL}}"]
    matchers:
      - type: word
        words: [200]
`);
    expect(template.info.severity).toBe('unknown');
    expect(template.blocks[0]).toMatchObject({ redirects: false, maxRedirects: 0, matchersCondition: 'or' });
    expect(template.blocks[0]!.requests[0]).toMatchObject({ method: 'GET', base: 'BaseURL', rest: '' });
  });
});

describe('parseTemplate: malformed and unsupported templates, each with a clear error', () => {
  it('YAML syntax errors name the line', () => {
    const issues = refusal('id: x\ninfo:\n  name: [unclosed\n');
    expect(issues[0]!.line).toBeGreaterThanOrEqual(3);
    expect(issues[0]!.message).toMatch(/YAML syntax error/);
  });

  it('a document that is not a mapping', () => {
    expect(refusal('- just\n- a list\n')[0]!.message).toMatch(/YAML mapping/);
  });

  it('duplicate keys', () => {
    expect(refusal(`${HEADER}id: again\n`)[0]!.message).toMatch(/YAML syntax error.*unique/i);
  });

  it.each([
    ['dns', 'dns:\n  - name: "{{FQDN}}"\n    type: A\n', /dns protocol is not supported/],
    ['network', 'network:\n  - host: ["{{Hostname}}"]\n', /network protocol is not supported/],
    ['tcp', 'tcp:\n  - host: ["{{Hostname}}"]\n', /tcp protocol is not supported/],
    ['file', 'file:\n  - extensions: [all]\n', /file protocol is not supported/],
    ['headless', 'headless:\n  - steps: []\n', /headless protocol is not supported/],
    ['code', 'code:\n  - engine: [sh]\n', /code protocol is not supported/],
    ['javascript', 'javascript:\n  - code: "1"\n', /javascript protocol is not supported/],
    ['workflows', 'workflows:\n  - template: a.yaml\n', /workflows are not supported/],
    ['variables', 'variables:\n  a: b\n', /variables are not supported/],
    ['flow', 'flow: http(1)\n', /flow .* is not supported/],
  ])('the top-level key %s is refused, with its line', (key, yaml, message) => {
    const issues = refusal(`${HEADER}${yaml}`);
    expect(issues[0]).toMatchObject({ line: 6, path: key });
    expect(issues[0]!.message).toMatch(message);
  });

  it.each([
    ['payloads', 'payloads:\n      user: [admin]\n', /payloads/],
    ['fuzzing', 'fuzzing:\n      - part: query\n', /fuzzing is not supported/],
    ['req-condition', 'req-condition: true\n', /req-condition/],
    ['host-redirects', 'host-redirects: true\n', /only followed on the target's own origin/],
    ['cookie-reuse', 'cookie-reuse: true\n', /cookie-reuse/],
    ['race', 'race: true\n', /race/],
    ['unsafe', 'unsafe: true\n', /unsafe/],
  ])('the request key %s is refused, naming it and its line', (key, yaml, message) => {
    const issues = refusal(
      `${HEADER}http:\n  - path: ["{{BaseURL}}"]\n    ${yaml}    matchers:\n      - type: status\n        status: [200]\n`,
    );
    expect(issues[0]).toMatchObject({ line: 8, path: `http[0].${key}` });
    expect(issues[0]!.message).toMatch(message);
  });

  it('an unknown key anywhere is named with its line', () => {
    const issues = refusal(
      `${HEADER}http:\n  - path: ["{{BaseURL}}"]\n    matchers:\n      - type: status\n        status: [200]\n        colour: blue\n`,
    );
    expect(issues[0]).toEqual({ line: 11, path: 'http[0].matchers[0].colour', message: 'unsupported key "colour"' });
  });

  it('xpath matchers, dsl and internal extractors are refused', () => {
    const xpath = refusal(
      `${HEADER}http:\n  - path: ["{{BaseURL}}"]\n    matchers:\n      - type: xpath\n        xpath: ["/html"]\n`,
    );
    expect(xpath.map((i) => i.message).join(' ')).toMatch(/xpath matchers are not supported/);
    const internal = refusal(
      `${HEADER}http:\n  - path: ["{{BaseURL}}"]\n    extractors:\n      - type: regex\n        internal: true\n        regex: [a]\n`,
    );
    expect(internal[0]!.message).toMatch(/internal .* not supported/);
  });

  it('interactsh, helper functions and unknown placeholders are refused', () => {
    const issues = refusal(
      `${HEADER}http:\n  - path:\n      - "{{BaseURL}}/?u={{interactsh-url}}"\n      - "{{BaseURL}}/{{rand_base(5)}}"\n      - "{{BaseURL}}/{{FQDN}}"\n    matchers:\n      - type: status\n        status: [200]\n`,
    );
    expect(issues.map((i) => i.message)).toEqual([
      expect.stringMatching(/interactsh .* not supported/),
      expect.stringMatching(/helper functions/),
      expect.stringMatching(/unsupported placeholder \{\{FQDN\}\}/),
    ]);
    expect(issues.map((i) => i.line)).toEqual([8, 9, 10]);
  });

  it('unknown DSL functions and bad DSL syntax are refused, naming the expression', () => {
    const issues = refusal(
      `${HEADER}http:\n  - path: ["{{BaseURL}}"]\n    matchers:\n      - type: dsl\n        dsl:\n          - "md5(body) == 'x'"\n          - "status_code == "\n          - "contains(body, 'a') + 1"\n`,
    );
    expect(issues[0]!.message).toMatch(/unsupported DSL function "md5"/);
    expect(issues[1]!.message).toMatch(/unexpected the end of the expression/);
    expect(issues[2]!.message).toMatch(/unsupported character "\+"/);
    expect(issues.map((i) => i.line)).toEqual([11, 12, 13]);
  });

  it('invalid regexes (Go syntax, no lookarounds) are refused', () => {
    const issues = refusal(
      `${HEADER}http:\n  - path: ["{{BaseURL}}"]\n    matchers:\n      - type: regex\n        regex: ["(?=x)", "a("]\n`,
    );
    expect(issues).toHaveLength(2);
    expect(issues[0]!.message).toMatch(/invalid regex/);
  });

  it('a request without matchers or extractors, or without path and raw, is refused', () => {
    expect(refusal(`${HEADER}http:\n  - path: ["{{BaseURL}}"]\n`)[0]!.message).toMatch(/needs matchers or extractors/);
    expect(
      refusal(`${HEADER}http:\n  - method: GET\n    matchers:\n      - type: status\n        status: [200]\n`)[0]!
        .message,
    ).toMatch(/needs path or raw/);
  });

  it('a matcher without its values, or with values of another type, is refused', () => {
    const issues = refusal(
      `${HEADER}http:\n  - path: ["{{BaseURL}}"]\n    matchers:\n      - type: word\n        regex: [a]\n`,
    );
    expect(issues.map((i) => i.message)).toEqual(['regex is not used by a word matcher', 'a word matcher needs words']);
  });

  it('missing id, name and author are named', () => {
    const issues = refusal(
      'info:\n  severity: low\nhttp:\n  - path: ["{{BaseURL}}"]\n    matchers:\n      - type: status\n        status: [200]\n',
    );
    expect(issues.map((i) => i.path).sort()).toEqual(['id', 'info.author', 'info.name']);
  });

  it('bad CVE and CWE ids, bad severities and bad binary hex are refused', () => {
    expect(refusal(HEADER.replace('high', 'severe') + 'http: []\n')[0]!.message).toMatch(/severity|must be one of/);
    const issues = refusal(
      `${HEADER}  classification:\n    cve-id: CVE-21-1\n    cwe-id: 79\nhttp:\n  - path: ["{{BaseURL}}"]\n    matchers:\n      - type: binary\n        binary: ["xyz"]\n`,
    );
    expect(issues.map((i) => i.message)).toEqual([
      '"CVE-21-1" is not a CVE id',
      '"79" is not a CWE id (CWE-200)',
      '"xyz" is not hex bytes',
    ]);
  });

  it('templates larger than the limit are refused', () => {
    expect(refusal(`${HEADER}# ${'x'.repeat(70_000)}\n`)[0]!.message).toMatch(/at most 65536 are accepted/);
    expect(() => parseTemplate(`${HEADER}# ${'x'.repeat(20_000)}\n`, { maxBytes: 16_384 })).toThrow(/at most 16384/);
  });
});

describe('parseTemplate: a template can only talk to the scan target', () => {
  const withPath = (path: string) =>
    `${HEADER}http:\n  - path:\n      - ${JSON.stringify(path)}\n    matchers:\n      - type: status\n        status: [200]\n`;

  it.each([
    ['http://evil.example/x', /absolute URL/],
    ['https://169.254.169.254/latest/meta-data/', /absolute URL/],
    ['//evil.example/x', /absolute URL/],
    ['{{BaseURL}}@evil.example/x', /must be followed by "\/" or "\?"/],
    ['{{BaseURL}}.evil.example/x', /must be followed by "\/" or "\?"/],
    ['{{RootURL}}:8080/x', /must be followed by "\/" or "\?"/],
    ['{{Hostname}}/x', /must start with \{\{BaseURL\}\} or \{\{RootURL\}\}/],
    ['/x', /must start with \{\{BaseURL\}\}/],
  ])('refuses the path %s', (path, message) => {
    const issues = refusal(withPath(path));
    expect(issues[0]!.message).toMatch(message);
    expect(issues[0]!.line).toBe(8);
  });

  it('refuses a Host header naming another host, in headers and in raw requests', () => {
    const headers = refusal(
      `${HEADER}http:\n  - path: ["{{BaseURL}}"]\n    headers:\n      Host: evil.example\n    matchers:\n      - type: status\n        status: [200]\n`,
    );
    expect(headers[0]).toMatchObject({ line: 9, path: 'http[0].headers.Host' });
    expect(headers[0]!.message).toMatch(/Host header can only be \{\{Hostname\}\}/);
    const raw = refusal(
      `${HEADER}http:\n  - raw:\n      - |\n        GET / HTTP/1.1\n        Host: evil.example\n    matchers:\n      - type: status\n        status: [200]\n`,
    );
    expect(raw[0]!.message).toMatch(/Host header can only be/);
  });

  it('refuses raw requests to absolute URLs of other hosts', () => {
    const issues = refusal(
      `${HEADER}http:\n  - raw:\n      - |\n        GET http://evil.example/ HTTP/1.1\n        Host: {{Hostname}}\n    matchers:\n      - type: status\n        status: [200]\n`,
    );
    expect(issues[0]!.message).toMatch(/absolute URL/);
  });

  it('accepts raw requests whose line is {{BaseURL}}…', () => {
    const template = parseTemplate(
      `${HEADER}http:\n  - raw:\n      - |\n        GET {{BaseURL}}/x HTTP/1.1\n        Host: {{Hostname}}\n    matchers:\n      - type: status\n        status: [200]\n`,
    );
    expect(template.blocks[0]!.requests[0]).toMatchObject({ base: 'BaseURL', rest: '/x' });
  });
});
