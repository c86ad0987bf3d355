import { expect } from 'chai'
import { parse } from 'csv-parse/sync'
import { excelCsv } from '../../server/lib/csv.js'
import { readRegisterFile } from '../../server/services/asset-import-file.js'

describe('CSV for Excel (csv-stringify)', () => {
  it('when rows are written, then the file has a BOM, CRLF after every record and RFC 4180 quoting', () => {
    const csv = excelCsv([['รหัส', 'ชื่อ', 'ราคา'], ['A-1', 'โต๊ะ, ไม้', 7900.5], ['B-2', 'ป้าย "ยินดีต้อนรับ"', null], [], ['หลาย\nบรรทัด', '', 0]])
    expect(csv).to.equal('\ufeffรหัส,ชื่อ,ราคา\r\nA-1,"โต๊ะ, ไม้",7900.5\r\nB-2,"ป้าย ""ยินดีต้อนรับ""",\r\n\r\n"หลาย\nบรรทัด",,0\r\n')
  })

  it('when a cell holds a lone LF or CR (a multi-line note), then it is quoted so that the row stays whole', () => {
    expect(excelCsv([['a\nb', 'c\rd', 'e\r\nf']], { bom: false })).to.equal('"a\nb","c\rd","e\r\nf"\r\n')
  })

  it('when a later chunk of a file is written, then it carries no BOM', () => {
    expect(excelCsv([['x', 1]], { bom: false })).to.equal('x,1\r\n')
  })

  it('when text starts with = + - @, a tab or CR, then it gets an apostrophe (a spreadsheet shows it as text)', () => {
    for (const s of ['=1+1', '+66', '-ลบ', '@SUM(A1)', '\t=1', '\r=1']) {
      const cell = excelCsv([[s]], { bom: false }).replace(/\r\n$/, '')
      expect((parse(cell) as string[][])[0]![0], JSON.stringify(s)).to.equal(`'${s}`)
    }
    for (const s of ['416-66-0001', 'โต๊ะ', 'a=b']) expect(excelCsv([[s]], { bom: false })).to.equal(`${s}\r\n`)
  })

  it('when text starts with a full-width ＝ ＋ － ＠, then it is neutralised too (Apple Numbers reads them as formulas)', () => {
    for (const s of ['＝1+1', '＋66', '－1', '＠x']) expect(excelCsv([[s]], { bom: false })).to.equal(`'${s}\r\n`)
  })

  it('when a number is negative, then it stays a number (no apostrophe)', () => {
    expect(excelCsv([[-5, '-5']], { bom: false })).to.equal("-5,'-5\r\n")
  })

  it('when a neutralised file is read back by the asset import, then every cell is as typed', async () => {
    const typed = ['=1+1', '+66', '-ลบ', '@SUM(A1)', '＝x', "'quoted", 'บรรทัดหนึ่ง\nบรรทัดสอง']
    const table = await readRegisterFile(
      Buffer.from(excelCsv([['code', 'name', 'category'], ...typed.map((s, i) => [`A-${i}`, s, 'office'])]), 'utf8'),
      'x.csv',
    )
    expect(table.rows.slice(1).map((r) => r.cells[1])).to.deep.equal(typed)
  })
})
