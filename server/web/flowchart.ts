/*
 * A small server-rendered SVG flowchart (no script, no package): boxes on a grid of rows and two
 * columns — the main path down the left, branches to the right — joined by arrows. Text is passed
 * in already translated and wraps at Thai word boundaries (Intl.Segmenter), so a box grows to fit
 * its words rather than cutting them off. Used by the procedure pack (/transparency/procedures).
 */

export type FlowShape = 'terminal' | 'box' | 'decision'

export interface FlowNode {
  id: string
  text: string
  shape: FlowShape
  row: number
  /** 0 = the main path, 1 = a branch to its right. */
  col: 0 | 1
}

export interface FlowEdge {
  from: string
  to: string
  label?: string
}

export interface FlowchartOptions {
  id: string
  title: string
  nodes: FlowNode[]
  edges: FlowEdge[]
}

const FONT = 15
const LINE = 20
const PAD_X = 12
const PAD_Y = 9
const ROW_GAP = 36
const MARGIN = 8
const COLS = [
  { center: 190, width: 300 },
  { center: 505, width: 250 },
]
const WIDTH = 640

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;')

let words: Intl.Segmenter | undefined
let graphemes: Intl.Segmenter | undefined

/** A rough width in px: combining Thai marks take no room; wide Latin letters a little more. */
export function textWidth(s: string, fontSize = FONT): number {
  graphemes ??= new Intl.Segmenter('th', { granularity: 'grapheme' })
  let w = 0
  for (const { segment } of graphemes.segment(s)) {
    if (segment === ' ') w += 0.28
    else if (/^[\u0E00-\u0E7F]/.test(segment)) w += 0.6
    else if (/^[A-Z0-9]/.test(segment)) w += 0.62
    else w += 0.52
  }
  return w * fontSize
}

/** Breaks text into lines no wider than `max` px, at word boundaries (a too-long word on its own line). */
export function wrapText(text: string, max: number, fontSize = FONT): string[] {
  words ??= new Intl.Segmenter('th', { granularity: 'word' })
  const lines: string[] = []
  for (const paragraph of text.split('\n')) {
    let line = ''
    for (const { segment } of words.segment(paragraph)) {
      const next = line + segment
      if (line !== '' && textWidth(next.trimEnd(), fontSize) > max) {
        lines.push(line.trim())
        line = segment.trimStart()
      } else {
        line = next
      }
    }
    if (line.trim() !== '') lines.push(line.trim())
  }
  return lines
}

interface Placed extends FlowNode {
  lines: string[]
  x: number
  y: number
  w: number
  h: number
  cx: number
  /** The top of the node's row (a node shorter than its row is centred in it). */
  rowTop: number
}

function place(nodes: FlowNode[]): { placed: Map<string, Placed>; height: number } {
  const measured = nodes.map((n) => {
    const col = COLS[n.col]!
    // A diamond holds its text in the middle half of its width.
    const inner = n.shape === 'decision' ? col.width * 0.55 : col.width - 2 * PAD_X
    const lines = wrapText(n.text, inner)
    const textH = lines.length * LINE
    const h = n.shape === 'decision' ? Math.max(textH * 2 + 10, 70) : textH + 2 * PAD_Y
    return { ...n, lines, w: col.width, h, cx: col.center, x: col.center - col.width / 2, y: 0, rowTop: 0 }
  })
  const rows = Math.max(0, ...nodes.map((n) => n.row)) + 1
  const placed = new Map<string, Placed>()
  let y = MARGIN
  for (let r = 0; r < rows; r++) {
    const inRow = measured.filter((n) => n.row === r)
    const rowH = Math.max(0, ...inRow.map((n) => n.h))
    for (const n of inRow) placed.set(n.id, { ...n, y: y + (rowH - n.h) / 2, rowTop: y })
    y += rowH + ROW_GAP
  }
  return { placed, height: y - ROW_GAP + MARGIN }
}

function shape(n: Placed): string {
  const attrs = `class="flow-node flow-${n.shape}" data-id="${esc(n.id)}"`
  if (n.shape === 'decision') {
    const { cx, y, w, h } = n
    return `<polygon ${attrs} points="${cx},${y} ${cx + w / 2},${y + h / 2} ${cx},${y + h} ${cx - w / 2},${y + h / 2}"/>`
  }
  const r = n.shape === 'terminal' ? Math.min(n.h / 2, 22) : 4
  return `<rect ${attrs} x="${n.x}" y="${n.y}" width="${n.w}" height="${n.h}" rx="${r}" ry="${r}"/>`
}

function label(n: Placed): string {
  const top = n.y + n.h / 2 - (n.lines.length * LINE) / 2 + LINE * 0.75
  const spans = n.lines.map((l, i) => `<tspan x="${n.cx}" y="${top + i * LINE}">${esc(l)}</tspan>`).join('')
  return `<text class="flow-text" text-anchor="middle">${spans}</text>`
}

/** An orthogonal arrow: straight down a column, across to a branch, or from a branch back into the main path. */
function edge(a: Placed, b: Placed, text: string | undefined): string {
  let d: string
  let lx: number
  let ly: number
  let anchor = 'start'
  if (a.col === b.col) {
    d = `M${a.cx},${a.y + a.h} L${b.cx},${b.y}`
    lx = a.cx + 6
    ly = a.y + a.h + 13
  } else if (a.col < b.col) {
    const y = a.y + a.h / 2
    d = `M${a.cx + a.w / 2},${y} L${b.x},${y}`
    lx = a.cx + a.w / 2 + 6
    ly = y - 6
  } else {
    // Back from a branch: down the branch's column into the gap above the target, across, and down into
    // its top, joining the main path's own arrow there (never across another branch's arrow).
    const y = b.rowTop - 9
    d = `M${a.cx},${a.y + a.h} L${a.cx},${y} L${b.cx},${y} L${b.cx},${b.y}`
    lx = a.cx - 6
    ly = y - 6
    anchor = 'end'
  }
  const lbl = text ? `<text class="flow-edge-label" x="${lx}" y="${ly}" text-anchor="${anchor}">${esc(text)}</text>` : ''
  return `<path class="flow-edge" d="${d}" marker-end="url(#flow-arrow)"/>${lbl}`
}

/** The flowchart as one <svg> element (viewBox scales it; every text is in the markup). */
export function flowchart(opts: FlowchartOptions): string {
  const { placed, height } = place(opts.nodes)
  const parts: string[] = []
  parts.push(
    `<svg class="flowchart" id="${esc(opts.id)}" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${WIDTH} ${height}" width="${WIDTH}" height="${height}" role="img" aria-labelledby="${esc(opts.id)}-title" font-size="${FONT}">`,
  )
  parts.push(`<title id="${esc(opts.id)}-title">${esc(opts.title)}</title>`)
  parts.push(
    `<defs><marker id="flow-arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="8" markerHeight="8" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" class="flow-arrowhead"/></marker></defs>`,
  )
  for (const e of opts.edges) {
    const a = placed.get(e.from)
    const b = placed.get(e.to)
    if (!a || !b) throw new Error(`flowchart ${opts.id}: unknown node in edge ${e.from} → ${e.to}`)
    parts.push(edge(a, b, e.label))
  }
  for (const n of placed.values()) parts.push(`<g class="flow-step">${shape(n)}${label(n)}</g>`)
  parts.push('</svg>')
  return parts.join('')
}
