/**
 * The state store interface: accounts, signals, the advisory outbox, tickets and detector
 * checkpoints. Implementation: `sqlite/` (a file under the data folder by default, or `:memory:`
 * in tests). Every implementation passes `state-contract.ts`.
 */
import type { AccountRecord, Advisory, AdvisoryKind, Signal, SignalState, Ticket, TicketState } from '../domain/types.ts';

export interface AdvisoryFilter {
  account?: string;
  kind?: AdvisoryKind;
  /** decided at or after this wall time */
  sinceWallMs?: number;
  signalId?: string;
  limit?: number;
}

export interface SignalFilter {
  account?: string;
  state?: SignalState;
  limit?: number;
}

export interface TicketFilter {
  account?: string;
  state?: TicketState;
  limit?: number;
}

export interface StateStore {
  // accounts
  upsertAccount(account: AccountRecord): void;
  /** inserts an unclassified placeholder unless the account exists; returns true when inserted */
  ensureAccount(account: AccountRecord): boolean;
  getAccount(id: string): AccountRecord | undefined;
  listAccounts(): AccountRecord[];

  // signals
  saveSignal(signal: Signal): void;
  getSignal(id: string): Signal | undefined;
  listSignals(filter?: SignalFilter): Signal[];

  // advisories: the outbox
  /**
   * Records an advisory to send. Returns false (and stores nothing) when an advisory with the
   * same dedupKey exists: the same email is never queued twice.
   */
  enqueueAdvisory(advisory: Advisory): boolean;
  /** pending advisories whose next attempt is due at `nowWallMs`, oldest first */
  dueAdvisories(nowWallMs: number, limit: number): Advisory[];
  markAdvisorySent(id: string, sentAtWallMs: number): void;
  /** records a failed attempt; `nextAttemptAtWallMs` undefined means give up (status failed) */
  markAdvisoryFailed(id: string, error: string, nextAttemptAtWallMs: number | undefined): void;
  getAdvisory(id: string): Advisory | undefined;
  listAdvisories(filter?: AdvisoryFilter): Advisory[];
  /** number of advisories still pending */
  outboxDepth(): number;

  // tickets
  saveTicket(ticket: Ticket): void;
  getTicket(id: string): Ticket | undefined;
  listTickets(filter?: TicketFilter): Ticket[];

  // checkpoints of detector and episode state, by key
  saveCheckpoint(key: string, data: Uint8Array): void;
  loadCheckpoint(key: string): Uint8Array | undefined;

  /** runs fn in one transaction (all writes or none) */
  transaction<T>(fn: () => T): T;
  close(): void;
}
