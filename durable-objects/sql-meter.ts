/** SQLite rows a Durable Object has read and written since it started, as Cloudflare bills them. */
export interface SqlUsage {
  rowsRead: number;
  rowsWritten: number;
}

/**
 * A cursor that adds its statement's rows to a running total. workerd counts a cursor's rows as
 * it is consumed, so the total is brought up to date after every call that may consume it, not
 * only when the statement runs.
 */
class MeteredCursor<T extends Record<string, SqlStorageValue>> implements SqlStorageCursor<T> {
  private read = 0;
  private written = 0;

  constructor(
    private readonly inner: SqlStorageCursor<T>,
    private readonly usage: SqlUsage,
  ) {
    this.settle();
  }

  private settle(): void {
    const { rowsRead, rowsWritten } = this.inner;
    this.usage.rowsRead += rowsRead - this.read;
    this.usage.rowsWritten += rowsWritten - this.written;
    this.read = rowsRead;
    this.written = rowsWritten;
  }

  get columnNames(): string[] {
    return this.inner.columnNames;
  }

  get rowsRead(): number {
    return this.inner.rowsRead;
  }

  get rowsWritten(): number {
    return this.inner.rowsWritten;
  }

  next(): { done?: false; value: T } | { done: true; value?: never } {
    try {
      return this.inner.next();
    } finally {
      this.settle();
    }
  }

  toArray(): T[] {
    try {
      return this.inner.toArray();
    } finally {
      this.settle();
    }
  }

  one(): T {
    try {
      return this.inner.one();
    } finally {
      this.settle();
    }
  }

  *raw<U extends SqlStorageValue[]>(): IterableIterator<U> {
    try {
      yield* this.inner.raw<U>();
    } finally {
      this.settle();
    }
  }

  *[Symbol.iterator](): IterableIterator<T> {
    try {
      yield* this.inner;
    } finally {
      this.settle();
    }
  }
}

/**
 * A Durable Object's SQL storage that keeps count of the rows its statements read and write, the
 * units Cloudflare bills SQLite-backed objects by. `const sql = new MeteredSql(ctx.storage.sql);
 * sql.exec(…); sql.usage.rowsWritten`.
 */
export class MeteredSql implements SqlStorage {
  readonly usage: SqlUsage = { rowsRead: 0, rowsWritten: 0 };

  constructor(private readonly inner: SqlStorage) {}

  exec<T extends Record<string, SqlStorageValue>>(query: string, ...bindings: unknown[]): SqlStorageCursor<T> {
    return new MeteredCursor(this.inner.exec<T>(query, ...bindings), this.usage);
  }

  get databaseSize(): number {
    return this.inner.databaseSize;
  }

  get Cursor(): typeof SqlStorageCursor {
    return this.inner.Cursor;
  }

  get Statement(): typeof SqlStorageStatement {
    return this.inner.Statement;
  }
}
