/** UTC months, as billing counts budgets and spend. */
export const monthStart = (now: number): number => {
  const d = new Date(now);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
};

/** 'YYYY-MM' of a time. */
export const monthOf = (time: number): string => new Date(time).toISOString().slice(0, 7);

/** Holds and in-progress claims older than this belong to a request that can no longer be running. */
export const ABANDONED_AFTER_MS = 15 * 60 * 1000;
