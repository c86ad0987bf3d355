import { expect } from 'chai'
import { run as backup } from '../../scripts/backup.js'
import { run as restore } from '../../scripts/restore.js'

describe('the SQLite file tools on a PostgreSQL install (issue 19)', () => {
  const env = { DATABASE_URL: 'postgres://yk@127.0.0.1:1/yk', DATABASE_PATH: '/nonexistent/yk.db' }

  it('when npm run backup is run with DATABASE_URL set, then it refuses, names pg_dump and changes nothing', async () => {
    const lines: string[] = []
    expect(await backup([], env, (l) => lines.push(l))).to.equal(1)
    expect(lines.join('\n')).to.include('pg_dump')
  })

  it('when npm run restore is run with DATABASE_URL set, then it refuses before reading the file, naming pg_dump', async () => {
    const lines: string[] = []
    expect(await restore(['/nonexistent/backup.db', '--yes'], env, (l) => lines.push(l))).to.equal(1)
    expect(lines.join('\n')).to.include('pg_dump')
  })
})
