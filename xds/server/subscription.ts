// Which resources of one type a stream wants, with the xDS wildcard rules:
// `*` subscribes to everything; a stream whose first request names nothing is
// a legacy wildcard until it names resources explicitly.

export class Subscription {
  private wildcard = false;
  private legacyWildcard = false;
  private explicit = false;
  readonly names = new Set<string>();
  private cachedKey?: string;

  /** A string naming what this subscription covers; equal subscriptions have equal keys. */
  key(): string {
    return (this.cachedKey ??= this.isWildcard() ? '*' : [...this.names].sort().join('\n'));
  }

  isWildcard(): boolean {
    return this.wildcard || this.legacyWildcard;
  }

  wants(name: string): boolean {
    return this.isWildcard() || this.names.has(name);
  }

  /** State-of-the-world: the request's names replace the previous set. Returns newly wanted names. */
  replace(resourceNames: readonly string[]): string[] {
    this.cachedKey = undefined;
    const added: string[] = [];
    if (resourceNames.length === 0 && !this.explicit) {
      this.legacyWildcard = true;
      return added;
    }
    this.explicit = true;
    this.legacyWildcard = false;
    this.wildcard = resourceNames.includes('*');
    const next = new Set(resourceNames.filter((n) => n !== '*'));
    for (const n of next) if (!this.names.has(n)) added.push(n);
    this.names.clear();
    for (const n of next) this.names.add(n);
    return added;
  }

  /** Incremental: applies subscribe and unsubscribe lists. Returns newly wanted and dropped names. */
  update(
    subscribe: readonly string[],
    unsubscribe: readonly string[],
    first: boolean,
  ): { added: string[]; removed: string[] } {
    this.cachedKey = undefined;
    if (first && subscribe.length === 0) this.legacyWildcard = true;
    const added: string[] = [];
    const removed: string[] = [];
    for (const n of subscribe) {
      if (n === '*') {
        this.wildcard = true;
        continue;
      }
      this.explicit = true;
      if (!this.names.has(n)) {
        this.names.add(n);
        added.push(n);
      }
    }
    for (const n of unsubscribe) {
      if (n === '*') {
        this.wildcard = false;
        this.legacyWildcard = false;
        continue;
      }
      if (this.names.delete(n)) removed.push(n);
    }
    if (subscribe.length > 0 && !subscribe.includes('*')) this.legacyWildcard = false;
    return { added, removed };
  }
}
