import { describe, expect, it } from 'vitest';
import {
  afterSighting,
  compareScans,
  fixedBy,
  type CompletedScan,
  type FindingTrack,
  type Sighting,
} from '../../../domain/findings/findingLifecycle.js';

/** Given a history of scans (sightings and completions), when the next one happens, then the status. */
type Step = { seen: Sighting } | { completed: CompletedScan };

function given(steps: readonly Step[]): FindingTrack | undefined {
  let track: FindingTrack | undefined;
  for (const step of steps) {
    if ('seen' in step) track = afterSighting(track, step.seen);
    else if (track && fixedBy(track, step.completed)) track = { ...track, status: 'fixed' };
  }
  return track;
}

const seen = (scanId: string, at: string, coverage = 'tcp:top1000'): Step => ({ seen: { scanId, coverage, at } });
const completed = (scanId: string, startedAt: string, coverage = 'tcp:top1000'): Step => ({
  completed: { scanId, coverage, startedAt },
});

describe('finding lifecycle across scans', () => {
  it('new → open → fixed → reopened → open', () => {
    const s1 = [seen('s1', 'T01'), completed('s1', 'T00')];
    expect(given(s1)?.status).toBe('new');
    const s2 = [...s1, seen('s2', 'T03'), completed('s2', 'T02')];
    expect(given(s2)?.status).toBe('open');
    const s3 = [...s2, completed('s3', 'T04')];
    expect(given(s3)?.status).toBe('fixed');
    const s4 = [...s3, seen('s4', 'T07'), completed('s4', 'T06')];
    expect(given(s4)?.status).toBe('reopened');
    const s5 = [...s4, seen('s5', 'T09'), completed('s5', 'T08')];
    expect(given(s5)?.status).toBe('open');
  });

  it('a scan with another coverage never fixes what it did not look at', () => {
    const full = [seen('s1', 'T01', 'tcp:1-65535'), completed('s1', 'T00', 'tcp:1-65535')];
    expect(given([...full, completed('s2', 'T02', 'tcp:top1000')])?.status).toBe('new');
    expect(given([...full, completed('s2', 'T02', 'tcp:22,80')])?.status).toBe('new');
    expect(given([...full, completed('s3', 'T03', 'tcp:1-65535')])?.status).toBe('fixed');
  });

  it('any coverage that once reported it may fix it', () => {
    const both = [seen('s1', 'T01', 'tcp:1-65535'), seen('s2', 'T03', 'tcp:top1000')];
    expect(given([...both, completed('s3', 'T04', 'tcp:top1000')])?.status).toBe('fixed');
  });

  it('several batches of one scan are one sighting', () => {
    const track = given([seen('s1', 'T01'), seen('s1', 'T02')]);
    expect(track?.status).toBe('new');
    expect(track?.lastSeen).toBe('T02');
  });

  it('the scan that reported it never fixes it, nor a scan that started before it was last seen', () => {
    expect(given([seen('s1', 'T01'), completed('s1', 'T00')])?.status).toBe('new');
    // s2 and s3 run at once: s3 sees it at T05, s2 (started at T04) completes without it.
    expect(given([seen('s1', 'T01'), seen('s3', 'T05'), completed('s2', 'T04')])?.status).toBe('open');
  });

  it('a fixed finding stays fixed until it is seen again', () => {
    const fixed = [seen('s1', 'T01'), completed('s2', 'T02')];
    expect(given([...fixed, completed('s3', 'T03')])?.status).toBe('fixed');
  });

  it('compares the findings of two scans', () => {
    expect(compareScans(['a', 'b', 'c'], ['b', 'c', 'd'])).toEqual({
      added: ['a'],
      fixed: ['d'],
      unchanged: ['b', 'c'],
    });
  });
});
