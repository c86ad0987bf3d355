/*
 * Tiny server-rendered SVG charts (no script): they print, and the numbers are also in a table.
 * Every text is passed in (already translated); the values sit in `data-value` attributes.
 */

export interface Bar {
  label: string
  value: number
  /** The value as shown (Thai digits, separators…); String(value) when absent. */
  shown?: string
}

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;')

/** A "nice" top of the axis: 1, 2, 5 × 10^n at or above max. */
function niceMax(max: number): number {
  if (max <= 0) return 1
  const p = 10 ** Math.floor(Math.log10(max))
  for (const m of [1, 2, 5, 10]) if (m * p >= max) return m * p
  return 10 * p
}

/** A vertical bar chart: one `<rect class="bar" data-value>` per bar, labels under the bars. */
export function barChart(opts: { title: string; bars: Bar[]; axisLabel?: string; id: string; formatTick?: (n: number) => string }): string {
  const { bars } = opts
  const fmt = opts.formatTick ?? ((n: number) => String(n))
  const left = 40
  const top = 14
  const plotH = 160
  const slot = 50
  const width = left + Math.max(bars.length, 1) * slot + 10
  const height = top + plotH + 52
  const max = niceMax(Math.max(0, ...bars.map((b) => b.value)))
  const y = (v: number) => top + plotH - (v / max) * plotH
  const parts: string[] = []
  parts.push(
    `<svg class="chart bar-chart" id="${esc(opts.id)}" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-labelledby="${esc(opts.id)}-title">`,
  )
  parts.push(`<title id="${esc(opts.id)}-title">${esc(opts.title)}</title>`)
  for (const tick of [0, max / 2, max]) {
    const ty = y(tick)
    parts.push(`<line class="grid" x1="${left}" x2="${width - 6}" y1="${ty}" y2="${ty}"/>`)
    parts.push(
      `<text class="tick" x="${left - 4}" y="${ty + 4}" text-anchor="end">${esc(fmt(Number.isInteger(tick) ? tick : Math.round(tick * 10) / 10))}</text>`,
    )
  }
  bars.forEach((b, i) => {
    const x = left + i * slot + 8
    const h = (Math.max(0, b.value) / max) * plotH
    const shown = b.shown ?? String(b.value)
    parts.push(`<g class="bar-group">`)
    parts.push(
      `<rect class="bar" x="${x}" y="${top + plotH - h}" width="${slot - 16}" height="${h}" data-label="${esc(b.label)}" data-value="${b.value}"><title>${esc(b.label)}: ${esc(shown)}</title></rect>`,
    )
    if (b.value > 0) parts.push(`<text class="bar-value" x="${x + (slot - 16) / 2}" y="${top + plotH - h - 3}" text-anchor="middle">${esc(shown)}</text>`)
    const cx = x + (slot - 16) / 2
    const [first, ...rest] = b.label.split(' ')
    const second = rest.length ? `<tspan x="${cx}" dy="13">${esc(rest.join(' '))}</tspan>` : ''
    parts.push(`<text class="bar-label" x="${cx}" y="${top + plotH + 15}" text-anchor="middle">${esc(first ?? '')}${second}</text>`)
    parts.push(`</g>`)
  })
  parts.push(`<line class="axis" x1="${left}" x2="${width - 6}" y1="${top + plotH}" y2="${top + plotH}"/>`)
  if (opts.axisLabel) parts.push(`<text class="axis-label" x="${left}" y="${height - 6}">${esc(opts.axisLabel)}</text>`)
  parts.push(`</svg>`)
  return parts.join('')
}

/** A horizontal bar chart for long labels (categories): one row per bar, the label on the left. */
export function hbarChart(opts: {
  title: string
  bars: Bar[]
  axisLabel?: string
  id: string
  formatTick?: (n: number) => string
  /** Room for the labels; short ones (months) leave the chart narrow enough for a phone (issue 17). */
  labelWidth?: number
}): string {
  const { bars } = opts
  const fmt = opts.formatTick ?? ((n: number) => String(n))
  const labelW = opts.labelWidth ?? 190
  const plotW = 220
  const row = 26
  const top = 6
  const width = labelW + plotW + 50
  const height = top + Math.max(bars.length, 1) * row + 34
  const max = niceMax(Math.max(0, ...bars.map((b) => b.value)))
  const room = Math.floor(labelW / 6.3)
  const cut = (s: string) => ([...s].length > room ? `${[...s].slice(0, room - 1).join('')}…` : s)
  const parts: string[] = []
  parts.push(
    `<svg class="chart hbar-chart" id="${esc(opts.id)}" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-labelledby="${esc(opts.id)}-title">`,
  )
  parts.push(`<title id="${esc(opts.id)}-title">${esc(opts.title)}</title>`)
  for (const tick of [0, max / 2, max]) {
    const tx = labelW + (tick / max) * plotW
    parts.push(`<line class="grid" x1="${tx}" x2="${tx}" y1="${top}" y2="${top + bars.length * row}"/>`)
    parts.push(
      `<text class="tick" x="${tx}" y="${top + bars.length * row + 14}" text-anchor="middle">${esc(fmt(Number.isInteger(tick) ? tick : Math.round(tick * 10) / 10))}</text>`,
    )
  }
  bars.forEach((b, i) => {
    const y = top + i * row
    const w = (Math.max(0, b.value) / max) * plotW
    const shown = b.shown ?? String(b.value)
    parts.push(`<g class="bar-group">`)
    parts.push(`<text class="bar-label" x="${labelW - 6}" y="${y + row / 2 + 4}" text-anchor="end">${esc(cut(b.label))}</text>`)
    parts.push(
      `<rect class="bar" x="${labelW}" y="${y + 4}" width="${w}" height="${row - 8}" data-label="${esc(b.label)}" data-value="${b.value}"><title>${esc(b.label)}: ${esc(shown)}</title></rect>`,
    )
    parts.push(`<text class="bar-value" x="${labelW + w + 4}" y="${y + row / 2 + 4}">${esc(shown)}</text>`)
    parts.push(`</g>`)
  })
  parts.push(`<line class="axis" x1="${labelW}" x2="${labelW}" y1="${top}" y2="${top + bars.length * row}"/>`)
  if (opts.axisLabel) parts.push(`<text class="axis-label" x="${labelW}" y="${height - 4}">${esc(opts.axisLabel)}</text>`)
  parts.push(`</svg>`)
  return parts.join('')
}
