/** The one rule for account ids, shared by the API (PUT /api/accounts/:id) and ingest admission. */

const ACCOUNT_ID = /^[A-Za-z0-9][A-Za-z0-9._:@-]{0,127}$/;

/** What a valid account id looks like, for error messages. */
export const ACCOUNT_ID_RULE = 'letters, digits and . _ : @ -, starting with a letter or digit, at most 128 characters';

/** True when `id` may name an account. */
export function isValidAccountId(id: string): boolean {
  return ACCOUNT_ID.test(id);
}
