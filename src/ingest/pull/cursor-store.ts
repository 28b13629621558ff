/**
 * Persisted cursors of the pull sources, in the state store's checkpoints under the key
 * `src\u0000<name>` as JSON. A cursor of another kind (the source was redeclared with a different
 * kind) is ignored, so a `sql` cursor is never handed to an `http_json` source.
 */
import type { SourceKind } from '../../config/types.ts';
import type { StateStore } from '../../store/state-store.ts';

/** What is kept per source across restarts. */
export interface CursorRecord {
  kind: SourceKind;
  /** the source's own cursor (see each source) */
  cursor: unknown;
  /** wall time of the last successful pull */
  lastSuccessMs?: number;
  /** newest event time pulled so far, for the lag */
  newestEventMs?: number;
}

/** Loads and saves cursors. */
export interface CursorStore {
  load(name: string, kind: SourceKind): CursorRecord | undefined;
  save(name: string, record: CursorRecord): void;
}

/** The checkpoint key of a source's cursor. */
export function cursorKey(name: string): string {
  return `src\u0000${name}`;
}

const VERSION = 1;

/** Creates the cursor store over `state`. */
export function createCursorStore(state: Pick<StateStore, 'saveCheckpoint' | 'loadCheckpoint'>): CursorStore {
  const decoder = new TextDecoder();
  const encoder = new TextEncoder();
  return {
    load(name, kind) {
      const bytes = state.loadCheckpoint(cursorKey(name));
      if (bytes === undefined) return undefined;
      let parsed: unknown;
      try {
        parsed = JSON.parse(decoder.decode(bytes));
      } catch (cause) {
        throw new Error(`cursor of source "${name}" is not valid json (checkpoint ${JSON.stringify(cursorKey(name))})`, { cause });
      }
      const rec = parsed as { v?: unknown } & Partial<CursorRecord>;
      if (rec.v !== VERSION || rec.kind !== kind) return undefined;
      const out: CursorRecord = { kind, cursor: rec.cursor };
      if (typeof rec.lastSuccessMs === 'number') out.lastSuccessMs = rec.lastSuccessMs;
      if (typeof rec.newestEventMs === 'number') out.newestEventMs = rec.newestEventMs;
      return out;
    },
    save(name, record) {
      state.saveCheckpoint(cursorKey(name), encoder.encode(JSON.stringify({ v: VERSION, ...record })));
    },
  };
}
