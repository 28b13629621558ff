/** The in-memory store against the TimeSeriesStore contract. */
import { expect, it } from 'vitest';
import { timeSeriesStoreContract } from '../contract.ts';
import { createMemoryStore } from './memory-store.ts';

timeSeriesStoreContract('memory store', async () => {
  const store = createMemoryStore();
  return { store, cleanup: () => store.close() };
});

it('memory store: refuses calls once closed', async () => {
  const store = createMemoryStore();
  await store.close();
  await expect(store.write([{ account: 'a', metric: 'm', tsMs: 1, value: 1 }])).rejects.toThrow(/closed/);
});
