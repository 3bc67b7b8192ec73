import type { SqlTx } from './sql.js';

/**
 * Several writes of one command in one statement (issue 19: a command's cost is its round trips).
 * Each module contributes its write as a data-modifying CTE built on the shared parameter list
 * (`param`), so the SQL of a write stays with the module that owns its table. Writes in one
 * statement see the same snapshot and none sees another's rows (foreign keys are checked at the
 * end, so a row may reference one inserted beside it); no two may change the same row.
 */
export class Writes {
  private readonly values: unknown[] = [];
  private readonly ctes: { name: string; sql: string }[] = [];

  /** A placeholder for `value` (`$n`), to use in a write's SQL. */
  param(value: unknown): string {
    this.values.push(value);
    return `$${this.values.length}`;
  }

  /** A write (INSERT / UPDATE / DELETE … RETURNING 1); `name` reads how many rows it returned. */
  add(name: string, sql: string): this {
    if (this.ctes.some((c) => c.name === name)) throw new Error(`a write named ${name} is already in this statement`);
    this.ctes.push({ name, sql });
    return this;
  }

  /** Runs them; the rows each returned, by name. */
  async run(tx: SqlTx): Promise<Record<string, number>> {
    if (this.ctes.length === 0) return {};
    const [row] = await tx.$queryRawUnsafe<Record<string, number>[]>(
      `WITH ${this.ctes.map((c) => `${c.name} AS (${c.sql})`).join(',\n')}
       SELECT ${this.ctes.map((c) => `(SELECT count(*) FROM ${c.name})::int AS "${c.name}"`).join(', ')}`,
      ...this.values,
    );
    return row ?? {};
  }
}
