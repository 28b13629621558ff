/**
 * The one HTTP error class, and its rendering: every error response is JSON `{ error, detail }`.
 */
import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';

/** An error with an HTTP status, raised by routes and rendered by `renderError`. */
export class HttpError extends Error {
  constructor(
    readonly status: ContentfulStatusCode,
    message: string,
    readonly detail?: unknown,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'HttpError';
  }
}

/** Renders any thrown value as `{ error, detail }`; unknown errors are 500s without internals. */
export function renderError(err: unknown, c: Context): Response {
  if (err instanceof HttpError) {
    return c.json({ error: err.message, detail: err.detail ?? null }, err.status);
  }
  // hono's own HTTPException (e.g. from middleware) carries a status
  const status = (err as { status?: unknown }).status;
  if (typeof status === 'number' && status >= 400 && status < 600) {
    return c.json({ error: (err as Error).message || 'request failed', detail: null }, status as ContentfulStatusCode);
  }
  console.error('forewarn: unhandled error in', c.req.method, c.req.path, err);
  return c.json({ error: 'internal error', detail: String((err as Error)?.message ?? err) }, 500);
}
