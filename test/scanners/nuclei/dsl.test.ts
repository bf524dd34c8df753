import { describe, expect, it } from 'vitest';
import { DslError, evaluateDsl, parseDsl, type DslValue } from '../../../scanners/nuclei/dsl.js';
import { compileJsonPath, JsonPathError } from '../../../scanners/nuclei/jsonPath.js';

const response: Record<string, DslValue> = {
  body: '<html><title>Admin Panel</title> version 2.4.49</html>',
  status_code: 200,
  content_type: 'text/html; charset=UTF-8',
  all_headers: 'HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=UTF-8\r\n\r\n',
};
const scope = (name: string) => response[name];
const run = (source: string) => evaluateDsl(parseDsl(source), scope);

describe('DSL', () => {
  it.each([
    ['status_code == 200', true],
    ['status_code != 200', false],
    ['status_code >= 200 && status_code < 300', true],
    ['status_code > 200 || contains(body, "Admin")', true],
    ["contains(body, 'Admin Panel')", true],
    ["contains(tolower(body), 'admin panel')", true],
    ["contains(toupper(body), 'ADMIN')", true],
    ['len(body) > 10', true],
    ['len("héllo") == 6', true],
    ['regex("version 2\\\\.4\\\\.(49|50)", body)', true],
    ["regex('(?i)ADMIN', body)", true],
    ['!contains(content_type, "json")', true],
    ['!(status_code == 200)', false],
    ['(status_code == 404 || status_code == 200) && contains(body, "title")', true],
    ['contains_any(body, "nope", "Panel")', true],
    ['contains_all(body, "nope", "Panel")', false],
    ['starts_with(body, "<html>")', true],
    ['ends_with(body, "</html>", "x")', true],
    ['true && !false', true],
    ['status_code == "200"', false],
  ])('%s → %s', (source, expected) => {
    expect(run(source)).toBe(expected);
  });

  it('treats a missing field or a type error as false (as nuclei does)', () => {
    expect(run('contains(x_powered_by, "PHP")')).toBe(false);
    expect(run('!contains(x_powered_by, "PHP")')).toBe(false);
    expect(run('body > 3')).toBe(false);
    expect(run('status_code')).toBe(false);
  });

  it('short-circuits: the right side of || is not needed once the left is true', () => {
    expect(run('status_code == 200 || contains(missing_header, "x")')).toBe(true);
  });

  it.each([
    ['md5(body) == "x"', /unsupported DSL function "md5"/],
    ['contains(body)', /contains\(\) takes 2 argument/],
    ['regex(body, body)', /pattern as a string literal/],
    ['regex("(?=x)", body)', /invalid regex/],
    ['status_code == ', /unexpected the end/],
    ['1 < 2 < 3', /chained comparison/],
    ['body + "x"', /unsupported character "\+"/],
    ['"unterminated', /unterminated string/],
    ['(status_code == 200', /expected "\)"/],
    ['a b', /unexpected "b"/],
    ['!'.repeat(100) + 'true', /nested deeper/],
  ])('refuses %s', (source, message) => {
    expect(() => parseDsl(source)).toThrow(DslError);
    try {
      parseDsl(source);
    } catch (error) {
      expect((error as Error).message).toMatch(message);
    }
  });
});

describe('json extractor paths (jq subset)', () => {
  const document = {
    version: { number: '7.10.2' },
    items: [{ name: 'a' }, { name: 'b' }],
    'odd-key': [1, 2, 3],
    flag: true,
  };
  it.each([
    ['.version.number', ['7.10.2']],
    ['.items[].name', ['a', 'b']],
    ['.items[1].name', ['b']],
    ['.["odd-key"][-1]', ['3']],
    ['.flag', ['true']],
    ['.version', ['{"number":"7.10.2"}']],
    ['.items | .[0] | .name', ['a']],
    ['.missing.deeper', []],
    ['.', [JSON.stringify(document)]],
  ])('%s', (path, expected) => {
    expect(compileJsonPath(path).run(document, 20)).toEqual(expected);
  });

  it('refuses filters and functions', () => {
    expect(() => compileJsonPath('.items[] | select(.name == "a")')).toThrow(JsonPathError);
    expect(() => compileJsonPath('keys')).toThrow(/unsupported jq expression/);
  });
});
