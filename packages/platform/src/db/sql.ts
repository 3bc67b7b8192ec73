/** The SQL surface the platform works with: what every service's Prisma client has, and the driver's own transactions. */

/** The Prisma features the platform (outbox, inbox, steps) uses; every service's client has them. */
export interface SqlTx {
  $executeRawUnsafe(query: string, ...values: unknown[]): Promise<number>;
  $queryRawUnsafe<T = unknown>(query: string, ...values: unknown[]): Promise<T>;
}
export interface SqlClient extends SqlTx {
  // Method syntax on purpose: parameters stay bivariant, so a service's PrismaClient (whose
  // transaction client is a richer type) is assignable.
  $transaction<R>(fn: (tx: SqlTx) => Promise<R>, options?: { maxWait?: number; timeout?: number }): Promise<R>;
  $disconnect(): Promise<void>;
}

/** Interactive transactions on `Tx`: what the platform's consumer runs a batch in. */
export interface TransactionRunner<Tx extends SqlTx> {
  $transaction<R>(fn: (tx: Tx) => Promise<R>, options?: { maxWait?: number; timeout?: number }): Promise<R>;
}
