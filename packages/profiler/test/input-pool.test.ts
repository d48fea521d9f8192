// Input arrays shared between a kernel's sessions, never within one model.
import { describe, expect, it } from 'vitest';
import { InputPool } from '@litepred/profiler';

describe('InputPool', () => {
  it('gives each input of a model an array of its own, and the same arrays to the next model of those shapes', () => {
    const pool = new InputPool();
    const kernel = pool.feeds([
      { name: 'a', shape: [1, 8, 4, 4] },
      { name: 'a_copy1', shape: [1, 8, 4, 4] },
      { name: 'b', shape: [1, 8] },
    ]);
    expect(kernel.get('a')).not.toBe(kernel.get('a_copy1'));
    expect(kernel.get('a')!.length).toBe(128);
    expect(kernel.get('a')![0]).toBe(0.5);
    const nullModel = pool.feeds([
      { name: 'input_0', shape: [1, 8, 4, 4] },
      { name: 'input_1', shape: [1, 8, 4, 4] },
    ]);
    expect(nullModel.get('input_0')).toBe(kernel.get('a'));
    expect(nullModel.get('input_1')).toBe(kernel.get('a_copy1'));
  });

  it('lets go of the least recently used shapes past its byte budget', () => {
    const pool = new InputPool(8 * 1024);
    const elements = 1024;
    const first = pool.feeds([{ name: 'x', shape: [elements] }]).get('x');
    pool.feeds([{ name: 'y', shape: [elements, 1] }]);
    pool.feeds([{ name: 'z', shape: [elements, 1, 1] }]);
    expect(pool.feeds([{ name: 'x', shape: [elements] }]).get('x')).not.toBe(first);
  });
});
