/**
 * Writer lanes make DynamoDB's ADD count once: a lane is used by one write at a time (its retries included), and
 * every write it makes carries the lane's next sequence number and applies only if the item saw a lower one from
 * it. A write the SDK sent again after DynamoDB applied it (an answer lost on the way back) then fails its
 * condition instead of adding twice. A process opens as many lanes as it has writes in flight at once (one in a
 * Lambda function), each named at random, so lanes of different processes never meet.
 */
export interface Lane {
  id: string;
  /** The next sequence number of this lane. */
  next(): number;
}

export class WriterLanes {
  private readonly idle: Lane[] = [];

  acquire(): Lane {
    const reused = this.idle.pop();
    if (reused) return reused;
    const id = crypto.randomUUID().replace(/-/g, '').slice(0, 10);
    let seq = 0;
    return { id, next: () => ++seq };
  }

  release(lane: Lane): void {
    this.idle.push(lane);
  }
}
