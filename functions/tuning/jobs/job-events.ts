/**
 * A job's events: appended to the store (which numbers them), then pushed to this process's subscribers, in the
 * order they were written. Subscribers see only events written by this process: a stream served elsewhere (another
 * isolate, another server) reads eventsAfter() from the store instead.
 */
import { newEventId } from '../ids.js';
import type { TuningStore } from '../tuning-store.js';
import type { EventLevel, JobEvent, JobStatus } from '../tuning-types.js';

/** Called with each new event and the job's status once that event was written (a finished status ends a stream). */
export type JobEventListener = (event: JobEvent, status: JobStatus) => void;

export interface NewEvent {
  level?: EventLevel;
  type?: JobEvent['type'];
  message: string;
  data?: Record<string, unknown> | null;
}

export class JobEventLog {
  private readonly listeners = new Map<string, Set<JobEventListener>>();

  constructor(private readonly store: TuningStore, private readonly now: () => number, private readonly onListenerError: (error: unknown) => void) {}

  async add(jobId: string, status: JobStatus, event: NewEvent): Promise<JobEvent> {
    const written = await this.store.addEvent({
      id: newEventId(), jobId, createdAt: this.now(), level: event.level ?? 'info', type: event.type ?? 'message',
      message: event.message, data: event.data ?? null,
    });
    for (const listener of this.listeners.get(jobId) ?? []) {
      try {
        listener(written, status);
      } catch (error) {
        this.onListenerError(error);
      }
    }
    return written;
  }

  subscribe(jobId: string, listener: JobEventListener): () => void {
    let set = this.listeners.get(jobId);
    if (!set) this.listeners.set(jobId, (set = new Set()));
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0 && this.listeners.get(jobId) === set) this.listeners.delete(jobId);
    };
  }

  /** Listeners registered for a job (a closed stream must not leave one behind). */
  listenerCount(jobId: string): number {
    return this.listeners.get(jobId)?.size ?? 0;
  }
}
