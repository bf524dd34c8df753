import { describe, expect, it } from 'vitest';
import { directoryOf, formSubmissionUrl, parseRobots, parseSitemap } from '../../../scanners/web/spider.js';

describe('spider helpers', () => {
  it('reads robots.txt paths (wildcards cut) and sitemaps', () => {
    const robots =
      'User-agent: *\nDisallow: /admin/ # staff\nAllow: /public/*.html$\nDisallow:\nSitemap: https://a.test/s.xml\nDisallow: *.bak';
    expect(parseRobots(robots)).toEqual({ paths: ['/admin/', '/public/'], sitemaps: ['https://a.test/s.xml'] });
  });

  it('reads sitemap locations', () => {
    const xml = '<urlset><url><loc> https://a.test/x?a=1&amp;b=2 </loc></url><url><loc>/y</loc></url></urlset>';
    expect(parseSitemap(xml)).toEqual(['https://a.test/x?a=1&b=2', '/y']);
  });

  it('submits a GET form with its default values, without buttons', () => {
    expect(
      formSubmissionUrl('https://a.test/search?old=1', [
        { name: 'q', type: 'text', value: 'shoes & hats' },
        { name: 'go', type: 'submit', value: 'Go' },
        { name: 'page', type: 'hidden', value: '2' },
      ]),
    ).toBe('https://a.test/search?q=shoes+%26+hats&page=2');
  });

  it('names the directory of a path', () => {
    expect(directoryOf('/a/b.php')).toBe('/a/');
    expect(directoryOf('/a/')).toBe('/a/');
    expect(directoryOf('/')).toBe('/');
  });
});
