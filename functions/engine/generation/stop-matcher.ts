/**
 * Stop strings over streamed text: text is released only once no stop string can still begin inside it, so a
 * client never receives the start of a stop string, and generation ends where one appears.
 */
export class StopMatcher {
  private text = '';
  private released = 0;

  constructor(private readonly stops: string[]) {}

  /** Adds generated text; returns what may be sent now and whether a stop string was found. */
  push(chunk: string): { release: string; stopped: boolean } {
    this.text += chunk;
    let cut = -1;
    for (const stop of this.stops) {
      const at = this.text.indexOf(stop, Math.max(0, this.released - stop.length + 1));
      if (at >= 0 && (cut < 0 || at < cut)) cut = at;
    }
    if (cut >= 0) {
      const release = this.text.slice(this.released, cut);
      this.released = cut;
      return { release, stopped: true };
    }
    let safe = this.text.length;
    for (const stop of this.stops) {
      for (let k = Math.min(stop.length - 1, this.text.length); k > 0; k--) {
        if (this.text.endsWith(stop.slice(0, k))) {
          safe = Math.min(safe, this.text.length - k);
          break;
        }
      }
    }
    safe = Math.max(safe, this.released);
    const release = this.text.slice(this.released, safe);
    this.released = safe;
    return { release, stopped: false };
  }

  /** What was held back, once generation ends for another reason. */
  flush(): string {
    const rest = this.text.slice(this.released);
    this.released = this.text.length;
    return rest;
  }
}
