import { type Kysely, type Migration, sql } from 'kysely';

/** A migration that runs raw SQL statements in order (each dialect's numbered migrations are lists of them). */
export const statements = (...sqls: string[]): Migration => ({
  async up(db: Kysely<any>) {
    for (const s of sqls) await sql.raw(s).execute(db);
  },
});
