import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  NSE_DENIED_SCRIPTS,
  NSE_EXCLUDED_CATEGORIES,
  nseScriptArgs,
  parseScriptDb,
  ScriptDbError,
  scriptRefusal,
  selectNseScripts,
  type NseScriptEntry,
} from '../../../scanners/vuln/nseScripts.js';

const SCRIPT_DB = '/usr/share/nmap/scripts/script.db';
const realDb = existsSync(SCRIPT_DB) ? readFileSync(SCRIPT_DB, 'utf8') : null;

const SAMPLE = `Entry { filename = "ftp-anon.nse", categories = { "auth", "default", "safe", } }
Entry { filename = "ftp-brute.nse", categories = { "brute", "intrusive", } }
Entry { filename = "ftp-bounce.nse", categories = { "default", "safe", } }
Entry { filename = "http-git.nse", categories = { "default", "safe", "vuln", } }
Entry { filename = "http-enum.nse", categories = { "discovery", "intrusive", "vuln", } }
Entry { filename = "ssl-heartbleed.nse", categories = { "safe", "vuln", } }
Entry { filename = "smb-vuln-ms10-054.nse", categories = { "dos", "intrusive", "vuln", } }
Entry { filename = "whois-ip.nse", categories = { "discovery", "external", "safe", } }
Entry { filename = "broadcast-ping.nse", categories = { "broadcast", "discovery", "safe", } }
Entry { filename = "http-vuln-cve2006-3392.nse", categories = { "exploit", "vuln", "intrusive", } }
Entry { filename = "dns-fuzz.nse", categories = { "fuzzer", "intrusive", } }
Entry { filename = "s7-info.nse", categories = { "discovery", "version", } }
Entry { filename = "targets-ipv6-wordlist.nse", categories = { "discovery", } }
Entry { filename = "fcrdns.nse", categories = { "discovery", "safe", } }
Entry { filename = "banner.nse", categories = { "discovery", "safe", } }
`;

describe('parseScriptDb', () => {
  it('reads every entry with its categories', () => {
    const entries = parseScriptDb(SAMPLE);
    expect(entries).toHaveLength(15);
    expect(entries[0]).toEqual({ name: 'ftp-anon', categories: ['auth', 'default', 'safe'] });
    expect(entries[6]).toEqual({ name: 'smb-vuln-ms10-054', categories: ['dos', 'intrusive', 'vuln'] });
  });

  it('skips blank lines and comments, refuses anything else', () => {
    expect(parseScriptDb(`-- a comment\n\n${SAMPLE.split('\n')[0]}\n`)).toHaveLength(1);
    expect(() => parseScriptDb('Entry { filename = "x.nse" }')).toThrow(ScriptDbError);
    expect(() => parseScriptDb('os.execute("rm -rf /")')).toThrow(/not an Entry/);
    expect(() => parseScriptDb('')).toThrow(/no script/);
    expect(() => parseScriptDb('Entry { filename = "x.lua", categories = { "safe", } }')).toThrow(/not a .nse/);
  });

  it.skipIf(!realDb)("reads the installed nmap's script.db (Debian's)", () => {
    const entries = parseScriptDb(realDb!);
    expect(entries.length).toBeGreaterThan(500);
    expect(entries.find((e) => e.name === 'ftp-anon')?.categories).toEqual(['auth', 'default', 'safe']);
    expect(entries.find((e) => e.name === 'ssl-heartbleed')?.categories).toEqual(['safe', 'vuln']);
  });
});

describe('selectNseScripts', () => {
  const entries = parseScriptDb(SAMPLE);

  it('full_and_fast: vuln, safe or default, never an excluded category, never a denied script', () => {
    expect(selectNseScripts(entries, 'full_and_fast')).toEqual(['banner', 'ftp-anon', 'http-git', 'ssl-heartbleed']);
  });

  it('deep adds discovery scripts that stay on the target', () => {
    expect(selectNseScripts(entries, 'deep')).toEqual(['banner', 'ftp-anon', 'http-git', 's7-info', 'ssl-heartbleed']);
  });

  it('skips scripts already run (banner during discovery)', () => {
    expect(selectNseScripts(entries, 'full_and_fast', { skip: ['banner'] })).not.toContain('banner');
  });

  it('says why a script is refused', () => {
    const entry = (name: string, ...categories: string[]): NseScriptEntry => ({ name, categories });
    expect(scriptRefusal(entry('x', 'vuln', 'intrusive'))).toBe('category intrusive');
    expect(scriptRefusal(entry('x', 'safe', 'external', 'broadcast'))).toBe('category external, broadcast');
    expect(scriptRefusal(entry('ftp-bounce', 'default', 'safe'))).toMatch(/third host/);
    expect(scriptRefusal(entry('targets-sniffer', 'safe'))).toMatch(/other than the target/);
    expect(scriptRefusal(entry('Bad Name', 'safe'))).toMatch(/unexpected characters/);
    expect(scriptRefusal(entry('ftp-anon', 'default', 'safe', 'auth'))).toBeNull();
  });

  it.skipIf(!realDb)('on the real script.db: no selected script is in an excluded category or denied', () => {
    const all = parseScriptDb(realDb!);
    const categoriesOf = new Map(all.map((e) => [e.name, e.categories]));
    for (const profile of ['full_and_fast', 'deep'] as const) {
      const selected = selectNseScripts(all, profile);
      expect(selected.length).toBeGreaterThan(200);
      for (const name of selected) {
        const categories = categoriesOf.get(name) ?? [];
        expect(
          categories.filter((c) => (NSE_EXCLUDED_CATEGORIES as readonly string[]).includes(c)),
          name,
        ).toEqual([]);
        expect(NSE_DENIED_SCRIPTS[name], name).toBeUndefined();
        expect(name.startsWith('targets-'), name).toBe(false);
      }
      // The checks issue 12 is about are in.
      expect(selected).toEqual(expect.arrayContaining(['ftp-anon', 'ssl-heartbleed', 'ssl-poodle', 'http-git']));
      // And the classic intrusive ones are not.
      for (const name of [
        'http-enum',
        'ssl-enum-ciphers',
        'smb-vuln-ms10-054',
        'vulners',
        'ftp-bounce',
        'http-slowloris',
      ]) {
        expect(selected).not.toContain(name);
      }
    }
    const deepOnly = selectNseScripts(all, 'deep').filter((n) => !selectNseScripts(all, 'full_and_fast').includes(n));
    for (const name of deepOnly) expect(categoriesOf.get(name)).toContain('discovery');
  });
});

describe('nseScriptArgs', () => {
  const ua = 'Mozilla/5.0 (compatible; SecAbly-Vulnerability-Scanner/1.0; +https://secably.com/bot)';

  it('keeps spiders on the target, names us, and passes a hostname as Host and SNI', () => {
    expect(nseScriptArgs({ hostname: 'shop.example.com', userAgent: ua, maxPages: 30 }).split(',')).toEqual([
      `http.useragent="${ua}"`,
      'httpspider.withinhost=true',
      'httpspider.withindomain=false',
      'httpspider.maxpagecount=30',
      'httpspider.maxdepth=3',
      'http.host=shop.example.com',
      'tls.servername=shop.example.com',
    ]);
  });

  it('never sets newtargets, and passes no name for an IP target', () => {
    for (const hostname of ['203.0.113.7', '2001:db8::1']) {
      const args = nseScriptArgs({ hostname, userAgent: ua, maxPages: 30 });
      expect(args).not.toMatch(/newtargets|http\.host|tls\.servername/);
    }
  });

  it('refuses a User-Agent that would break the argument list', () => {
    expect(() => nseScriptArgs({ hostname: 'a.test', userAgent: 'x,newtargets=1', maxPages: 1 })).toThrow();
    expect(() => nseScriptArgs({ hostname: 'a.test', userAgent: 'x"y', maxPages: 1 })).toThrow();
  });

  it('bounds the spider', () => {
    expect(nseScriptArgs({ hostname: 'a.test', userAgent: 'ua', maxPages: 1e9 })).toContain('maxpagecount=1000');
    expect(nseScriptArgs({ hostname: 'a.test', userAgent: 'ua', maxPages: 0 })).toContain('maxpagecount=1,');
  });
});
