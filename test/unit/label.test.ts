import { expect } from 'chai'
import { Resvg } from '@resvg/resvg-js'
import jsQR from 'jsqr'
import { buildLabels, labelFor, LAYOUTS, LABEL_LAYOUTS, parseLayout, QR_QUIET_ZONE, qrPath, qrSvg, qrUrl } from '../../server/services/label.service.js'
import { isAppError } from '../../server/errors.js'
import { fromThaiKeyboard } from '../../server/i18n/keyboard.js'

const BASE = 'https://yk.example.go.th'

const CODES = {
  plain: '416-66-0001',
  thaiWord: 'ครุภัณฑ์-๖๖/0001',
  thaiPrefix: 'กค.416-66-0001',
  slashes: '416/66/0001',
  // The longest a code may be (50), all Thai: the densest symbol a label can carry.
  longest: 'ครุภัณฑ์สำนักงานเครื่องคอมพิวเตอร์และอุปกรณ์ต่อพ่วง'.slice(0, 50),
}

interface Raster {
  width: number
  height: number
  pixels: Buffer
}

/** The SVG as pixels, `width` wide, on white. */
function rasterise(svg: string, width: number): Raster {
  const img = new Resvg(svg, { fitTo: { mode: 'width', value: width }, background: 'white' }).render()
  return { width: img.width, height: img.height, pixels: img.pixels }
}

function decode(r: Raster): string | undefined {
  const found = jsQR.default(new Uint8ClampedArray(r.pixels.buffer, r.pixels.byteOffset, r.pixels.length), r.width, r.height)
  return found?.data
}

function viewBoxSize(svg: string): number {
  const m = /viewBox="0 0 (\d+) (\d+)"/.exec(svg)
  expect(m, 'a viewBox').to.not.equal(null)
  expect(m![1]).to.equal(m![2])
  return Number(m![1])
}

/** Reads the module grid back from the pixels: true = dark, sampled at each module's centre. */
function modules(svg: string, pxPerModule: number): { dark: (row: number, col: number) => boolean; full: number } {
  const full = viewBoxSize(svg)
  const r = rasterise(svg, full * pxPerModule)
  const dark = (row: number, col: number) => {
    const x = Math.floor((col + 0.5) * pxPerModule)
    const y = Math.floor((row + 0.5) * pxPerModule)
    return r.pixels[(y * r.width + x) * 4]! < 128
  }
  return { dark, full }
}

/**
 * The error-correction level written in the symbol's format information (ISO/IEC 18004 §7.9):
 * both copies, unmasked with 0x5412 and checked against their BCH(15,5) code.
 */
function errorCorrectionOf(svg: string): 'L' | 'M' | 'Q' | 'H' {
  const { dark, full } = modules(svg, 6)
  const q = QR_QUIET_ZONE
  const size = full - 2 * q
  const at = (row: number, col: number) => (dark(row + q, col + q) ? 1 : 0)
  let vertical = 0
  let horizontal = 0
  for (let i = 0; i < 15; i++) {
    const v = i < 6 ? at(i, 8) : i < 8 ? at(i + 1, 8) : at(size - 15 + i, 8)
    const h = i < 8 ? at(8, size - i - 1) : i === 8 ? at(8, 7) : at(8, 14 - i)
    vertical |= v << i
    horizontal |= h << i
  }
  expect(vertical, 'the two copies of the format information agree').to.equal(horizontal)
  const format = vertical ^ 0x5412
  const data = format >> 10
  let rem = data << 10
  for (let i = 14; i >= 10; i--) if ((rem >> i) & 1) rem ^= 0x537 << (i - 10)
  expect(format, 'a valid BCH(15,5) codeword').to.equal((data << 10) | rem)
  return (['M', 'L', 'H', 'Q'] as const)[data >> 3]!
}

describe('labels: the QR payload and symbol', () => {
  describe('qrUrl (SPEC §5)', () => {
    it('when the code is plain, then the URL is base + /q/ + the code', () => {
      expect(qrUrl(BASE, CODES.plain)).to.equal('https://yk.example.go.th/q/416-66-0001')
    })

    it('when the code has Thai letters, marks and digits, then they are percent-encoded as UTF-8', () => {
      expect(qrUrl(BASE, CODES.thaiWord)).to.equal(
        'https://yk.example.go.th/q/%E0%B8%84%E0%B8%A3%E0%B8%B8%E0%B8%A0%E0%B8%B1%E0%B8%93%E0%B8%91%E0%B9%8C-%E0%B9%96%E0%B9%96%2F0001',
      )
      expect(qrUrl(BASE, CODES.thaiPrefix)).to.equal('https://yk.example.go.th/q/%E0%B8%81%E0%B8%84.416-66-0001')
    })

    it('when the code has slashes, then each is %2F so the code stays one path segment', () => {
      expect(qrUrl(BASE, CODES.slashes)).to.equal('https://yk.example.go.th/q/416%2F66%2F0001')
      expect(qrPath(CODES.slashes)).to.equal('/q/416%2F66%2F0001')
    })

    it('when the base URL ends with a slash or has a path, then there is exactly one slash before q', () => {
      expect(qrUrl(`${BASE}/`, CODES.plain)).to.equal('https://yk.example.go.th/q/416-66-0001')
      expect(qrUrl('http://192.168.1.10:3000/yk', CODES.plain)).to.equal('http://192.168.1.10:3000/yk/q/416-66-0001')
    })
  })

  describe('the SVG', () => {
    it('when a label QR is rendered to pixels and decoded with jsQR, then the text is exactly qrUrl — plain, Thai, slashes and the longest Thai code', () => {
      for (const [what, code] of Object.entries(CODES)) {
        const url = qrUrl(BASE, code)
        const svg = qrSvg(url)
        // Generous pixels, and the real size: the symbol of a 3×8 label (35 mm) at 300 dpi.
        for (const width of [viewBoxSize(svg) * 8, Math.round((35 / 25.4) * 300)]) {
          expect(decode(rasterise(svg, width)), `${what} at ${width}px`).to.equal(url)
        }
      }
    })

    it('when the symbol is read back, then its error correction is M or higher', () => {
      for (const code of Object.values(CODES)) {
        expect(['M', 'Q', 'H']).to.include(errorCorrectionOf(qrSvg(qrUrl(BASE, code))))
      }
    })

    it('when the symbol is drawn, then a 4-module white quiet zone surrounds it and the finder starts right after it', () => {
      for (const code of Object.values(CODES)) {
        const svg = qrSvg(qrUrl(BASE, code))
        const { dark, full } = modules(svg, 4)
        const size = full - 2 * QR_QUIET_ZONE
        expect((size - 17) % 4, 'a QR size is 17 + 4 × version').to.equal(0)
        for (let i = 0; i < full; i++) {
          for (let m = 0; m < QR_QUIET_ZONE; m++) {
            expect(dark(m, i) || dark(full - 1 - m, i) || dark(i, m) || dark(i, full - 1 - m), `quiet zone at ${m}/${i}`).to.equal(false)
          }
        }
        expect(dark(4, 4) && dark(4, full - 5) && dark(full - 5, 4), 'the three finder corners').to.equal(true)
      }
    })

    it('when the SVG is made, then it scales: a viewBox and no fixed width or height', () => {
      const svg = qrSvg(qrUrl(BASE, CODES.plain))
      expect(svg).to.match(/^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg" viewBox="0 0 \d+ \d+"/)
      expect(svg).to.not.match(/<svg[^>]*\s(width|height)=/)
    })
  })
})

describe('labels: the view-model', () => {
  const THAI_NAMES = [
    'เครื่องขยายเสียงพร้อมลำโพงและไมโครโฟนไร้สาย ชุดใหญ่สำหรับงานประชุมกลางแจ้งและงานพิธีการต่าง ๆ ของหน่วยงาน',
    'คอมพิวเตอร์โน้ตบุ๊ก สำหรับงานประมวลผล แบบที่ ๒ (จอแสดงภาพขนาดไม่น้อยกว่า ๑๔ นิ้ว) พร้อมกระเป๋าและเมาส์ไร้สาย',
    'ที่นั่งผู้ชม้ั้ั้ั้ั้ั้ั้ั้ั้ั้ั้ั้ั้ั้ั้ั้ั้ั้ั้ั้ั้ั้ั้ั้ั้ั้ั้ั้ั้ั้ั้ั้ั้ั้ั้ั้ั้ั้ั้ั้ั้ั้ั้ั้ั้ั้ั้ั้ั้ั้ั้ั้ั้ั้ั้ั้ั้ั้ั้ั้ั้ั้ั้ั้ั้ั้ั้ั้ั้ั้ั้ั้ั้ั้ั้ั้ั้ั้',
    'เเเเเเเเเเเเเเเเเเเเเเเเเเเเเเเเเเเเเเเเเเเเเเเเเเเเเเเเเเเเเเเเเเเเเเเเเเเเเเเเเเเเเเเเเเเ',
    'ตู้เหล็กเก็บเอกสาร ๒ บาน'.repeat(8),
  ]

  it('when a long Thai name is cut for any layout, then no tone mark or vowel is left dangling and no leading vowel lost its consonant', () => {
    for (const layout of LABEL_LAYOUTS) {
      for (const name of THAI_NAMES) {
        const label = labelFor({ id: 1, code: '416-66-0001', name }, { baseUrl: BASE, agency: 'อบต.', spec: LAYOUTS[layout] })
        expect(label.fullName).to.equal(name)
        if (label.name === name) continue
        expect(label.name.endsWith('…'), label.name).to.equal(true)
        const kept = label.name.slice(0, -1)
        expect(name.startsWith(kept), 'a prefix of the name').to.equal(true)
        // The character after the cut starts a new grapheme: a combining mark there would have been split off.
        expect(name.slice(kept.length), `${layout}: ${label.name}`).to.not.match(/^\p{M}/u)
        expect(kept, `${layout}: ${label.name}`).to.not.match(/[\u0E40-\u0E44]$/u)
        const graphemes = [...new Intl.Segmenter('th', { granularity: 'grapheme' }).segment(label.name)].length
        expect(graphemes).to.be.at.most(LAYOUTS[layout].nameMax)
      }
    }
  })

  it('when labels are built, then each carries the agency, the code, the URL of its code and that URL as a QR', async () => {
    const assets = [
      { id: 7, code: CODES.thaiWord, name: 'เต็นท์' },
      { id: 8, code: CODES.plain, name: 'โต๊ะพับ' },
    ]
    const labels = await buildLabels(assets, '3x8', { baseUrl: BASE, agencyName: 'องค์การบริหารส่วนตำบลหนองบัว' })
    expect(labels.map((l) => [l.id, l.code, l.name, l.agency, l.url])).to.deep.equal([
      [7, CODES.thaiWord, 'เต็นท์', 'องค์การบริหารส่วนตำบลหนองบัว', qrUrl(BASE, CODES.thaiWord)],
      [8, CODES.plain, 'โต๊ะพับ', 'องค์การบริหารส่วนตำบลหนองบัว', qrUrl(BASE, CODES.plain)],
    ])
    expect(decode(rasterise(labels[0]!.svg, 400))).to.equal(qrUrl(BASE, CODES.thaiWord))
  })

  it('when a layout is absent, then the fallback is used; when it is unknown, then it is a validation error naming layout', () => {
    expect(parseLayout(undefined, '2x5')).to.equal('2x5')
    expect(parseLayout('', 'single')).to.equal('single')
    expect(parseLayout('3x8', 'single')).to.equal('3x8')
    try {
      parseLayout('4x10', '3x8')
      expect.fail('should throw')
    } catch (e) {
      expect(isAppError(e) && e.code === 'validation_failed' && e.details?.[0]?.field === 'layout').to.equal(true)
    }
  })

  it('when text arrives through the Thai keyboard layout, then fromThaiKeyboard recovers what was keyed', () => {
    expect(fromThaiKeyboard('้ะะยหซฝฝ')).to.equal('https://')
    expect(fromThaiKeyboard('ภๅุขุุขจจจๅ')).to.equal('416-66-0001')
    expect(fromThaiKeyboard('๔ฎจ๔ฺค')).to.equal('%E0%B8')
  })
})
