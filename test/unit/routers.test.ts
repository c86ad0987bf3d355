import { expect } from 'chai'
import { ROUTERS, type RouterEntry, type RouterStage } from '../../server/routers.js'
import { createTestContext, type TestContext } from '../helpers/db.js'

/** A route layer of an Express 5 router (the `router` package): its path matcher and methods. */
interface RouteLayer {
  route?: { path: unknown; methods: Record<string, boolean> }
  match(path: string): boolean
}

interface Built {
  entry: RouterEntry
  routes: RouteLayer[]
}

const STAGES: RouterStage[] = ['first', 'public', 'api', 'page']

function build(ctx: TestContext, entries: readonly RouterEntry[]): Built[] {
  return entries.map((entry) => {
    const handler = entry.make(ctx, { signInLimiters: [], regenerateCsrf: () => '' })
    const stack = (handler as unknown as { stack?: RouteLayer[] }).stack ?? []
    return { entry, routes: stack.filter((l) => l.route) }
  })
}

function answers(b: Built, method: string, path: string): boolean {
  return b.routes.some((l) => l.route!.methods[method.toLowerCase()] === true && l.match(path))
}

/** Every page request that two routers both match: the earlier router takes it. */
function collisions(built: Built[]): Array<{ request: string; taker: string; loser: string }> {
  const out: Array<{ request: string; taker: string; loser: string }> = []
  built.forEach((later, j) => {
    for (const layer of later.routes) {
      const paths = (Array.isArray(layer.route!.path) ? layer.route!.path : [layer.route!.path]).filter((p): p is string => typeof p === 'string')
      for (const p of paths) {
        const path = p.replace(/[:*]\w+/g, '1')
        for (const [method, on] of Object.entries(layer.route!.methods)) {
          if (!on || method === '_all') continue
          const taker = built.slice(0, j).find((b) => answers(b, method, path))
          if (taker) out.push({ request: `${method.toUpperCase()} ${path}`, taker: taker.entry.name, loser: later.entry.name })
        }
      }
    }
  })
  return out
}

describe('the ordered router list (server/routers.ts)', () => {
  let ctx: TestContext
  before(async () => {
    ctx = await createTestContext({})
  })
  after(async () => {
    await ctx.close()
  })

  it('when the list is read, then its stages come in mount order (first, public, api, page) and names are unique', () => {
    const ranks = ROUTERS.map((e) => STAGES.indexOf(e.stage))
    expect(ranks).to.deep.equal([...ranks].sort((a, b) => a - b))
    expect(new Set(ROUTERS.map((e) => e.name)).size).to.equal(ROUTERS.length)
  })

  it('when a router declares requests it wins, then it is the first page router to answer them and a later one would answer them too', () => {
    const built = build(
      ctx,
      ROUTERS.filter((e) => e.stage === 'page'),
    )
    const claims = built.flatMap((b) => (b.entry.wins?.requests ?? []).map((request) => ({ owner: b.entry.name, request })))
    expect(claims).to.not.be.empty
    for (const { owner, request } of claims) {
      const [method, path] = request.split(' ') as [string, string]
      const matching = built.filter((b) => answers(b, method, path)).map((b) => b.entry.name)
      expect(matching[0], `${request} goes to ${matching[0]}, not ${owner}: keep ${owner} before ${matching.slice(1).join(', ')}`).to.equal(owner)
      expect(matching.length, `${request}: no later router matches it any more — drop the claim and its reason`).to.be.greaterThan(1)
    }
  })

  it('when two page routers match the same request, then the one that takes it says so in `wins` (no ordering constraint held by accident)', () => {
    const built = build(
      ctx,
      ROUTERS.filter((e) => e.stage === 'page'),
    )
    const declared = new Map(ROUTERS.map((e) => [e.name, new Set(e.wins?.requests ?? [])]))
    const undeclared = collisions(built).filter((c) => !declared.get(c.taker)!.has(c.request))
    expect(undeclared).to.deep.equal([])
  })

  it('when the loan routes came before the entry form, then /loans/new would be read as a loan id (the check bites)', () => {
    const reordered = [...ROUTERS.filter((e) => e.stage === 'page')]
    const entry = reordered.findIndex((e) => e.name === 'loan-entry')
    const [moved] = reordered.splice(entry, 1)
    reordered.push(moved!)
    const built = build(ctx, reordered)
    const first = built.find((b) => answers(b, 'GET', '/loans/new'))
    expect(first?.entry.name).to.equal('loans')
  })
})
