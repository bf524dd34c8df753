import { describe, expect, it } from 'vitest';
import { memoryReadModels } from '../../adapters/memoryReadModels.js';
import { readModelsContract } from './readModels.contract.js';

readModelsContract('memoryReadModels', async () => ({ readModels: memoryReadModels() }));

describe('memoryReadModels', () => {
  it('treats a limit of 0 as no limit, like MongoDB', async () => {
    const targets = memoryReadModels().collection('targets');
    for (const id of ['a', 'b', 'c']) await targets.applyAt(id, 1, {});
    expect(await targets.find({}, { limit: 0 })).toHaveLength(3);
  });

  it('refuses filter operators other than $in instead of ignoring them', async () => {
    const targets = memoryReadModels().collection('targets');
    await expect(targets.find({ rank: { $gt: 1 } })).rejects.toThrow(/unsupported filter/);
    await expect(targets.count({ rank: { $in: 1 } })).rejects.toThrow(/unsupported filter/);
  });

  it('keeps sorting stable: ties stay in insertion order', async () => {
    const targets = memoryReadModels().collection('targets');
    for (const [i, id] of ['z', 'a', 'm', 'b'].entries()) await targets.applyAt(id, i + 1, { group: 1 });
    expect((await targets.find({}, { sort: { group: 1 } })).map((doc) => doc._id)).toEqual(['z', 'a', 'm', 'b']);
  });
});
