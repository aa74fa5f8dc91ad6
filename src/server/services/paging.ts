// Paged lists: one convention for every List* rpc. A request carries `page_size` (0 = the default, above
// the maximum = the maximum, negative = INVALID_ARGUMENT) and `page_token` (empty = the first page, else
// the `next_page_token` of the previous answer). Items are ordered by a unique string key; the token is
// the opaque encoding of the last key returned, so a page costs memory for its own items only.
import { invalid } from "./rpc";

export const defaultPageSize = 100;
export const maxPageSize = 1000;

const tokenPrefix = "k1:";
/** A key longer than any name we store cannot come from a token we issued. */
const maxTokenKeyBytes = 1024;

export interface PageRequest {
  pageSize: number;
  pageToken: string;
}

export interface PageBounds {
  /** Start strictly after this key; undefined for the first page. */
  after: string | undefined;
  limit: number;
}

/** Validates a request's page fields. */
export function pageBounds(req: PageRequest): PageBounds {
  if (!Number.isInteger(req.pageSize) || req.pageSize < 0) {
    throw invalid("ERROR_REASON_INVALID_FIELD", "page_size must not be negative");
  }
  const limit = req.pageSize === 0 ? defaultPageSize : Math.min(req.pageSize, maxPageSize);
  if (req.pageToken === "") return { after: undefined, limit };
  const decoded = req.pageToken.length <= 2 * maxTokenKeyBytes ? Buffer.from(req.pageToken, "base64url").toString("utf8") : "";
  if (!decoded.startsWith(tokenPrefix)) {
    throw invalid("ERROR_REASON_INVALID_FIELD", "page_token is not one this server issued; pass the next_page_token of the previous answer");
  }
  return { after: decoded.slice(tokenPrefix.length), limit };
}

/** The token for the page after `lastKey`; "" when `returned` < `limit` (that was the last page). */
export function nextPageToken(returned: number, limit: number, lastKey: string | undefined): string {
  if (returned < limit || lastKey === undefined) return "";
  return Buffer.from(tokenPrefix + lastKey, "utf8").toString("base64url");
}

/** One page of `sorted` (ascending by `keyOf`, keys unique) after the bounds' key. */
export function pageOf<T>(sorted: readonly T[], keyOf: (item: T) => string, bounds: PageBounds): { items: T[]; nextPageToken: string } {
  let lo = 0;
  if (bounds.after !== undefined) {
    let hi = sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (keyOf(sorted[mid]) <= bounds.after) lo = mid + 1;
      else hi = mid;
    }
  }
  const items = sorted.slice(lo, lo + bounds.limit);
  const last = items.length > 0 ? keyOf(items[items.length - 1]) : undefined;
  return { items, nextPageToken: nextPageToken(items.length, bounds.limit, last) };
}
