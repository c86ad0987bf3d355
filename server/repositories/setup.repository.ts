/** The facts of the first-run checklist (issue 16): counts of what a new installation still lacks. */
import type { Kysely } from 'kysely'
import type { Database, Role } from '../../db/schema.js'

type Db = Kysely<Database>

export interface SetupFacts {
  activeDepartments: number
  activeCategories: number
  assets: number
  financeUsers: number
  executiveUsers: number
  labelSheetsPrinted: number
}

export async function setupFacts(db: Db): Promise<SetupFacts> {
  const usersWith = (role: Role) =>
    db
      .selectFrom('user_role as r')
      .innerJoin('app_user as u', 'u.id', 'r.user_id')
      .where('r.role', '=', role)
      .where('u.active', '=', 1)
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow()
  const [deps, cats, assets, fin, exe, labels] = [
    await db
      .selectFrom('department')
      .where('active', '=', 1)
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow(),
    await db
      .selectFrom('category')
      .where('active', '=', 1)
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow(),
    // One asset is enough to know the register has begun; counting them all is not needed.
    { n: (await db.selectFrom('asset').select('id').limit(1).executeTakeFirst()) ? 1 : 0 },
    await usersWith('finance'),
    await usersWith('executive'),
    await db
      .selectFrom('audit_log')
      .where('action', '=', 'labels.printed')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow(),
  ]
  return {
    activeDepartments: Number(deps.n),
    activeCategories: Number(cats.n),
    assets: Number(assets.n),
    financeUsers: Number(fin.n),
    executiveUsers: Number(exe.n),
    labelSheetsPrinted: Number(labels.n),
  }
}
