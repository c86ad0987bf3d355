/**
 * Reads a rendered page's POST form into the body a browser would send, with a type for each
 * field taken from its markup, so that table-driven tests start from the page's own valid values.
 * A small reader for the app's own EJS output, not a general HTML parser.
 */

export type FieldType = 'text' | 'code' | 'date' | 'int' | 'money' | 'enum' | 'bool' | 'hidden' | 'password' | 'button'

export interface FormField {
  name: string
  value: string
  type: FieldType
}

export function decodeEntities(s: string): string {
  return s
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;|&#x27;/g, "'")
    .replace(/&#(\d+);/g, (_m, n: string) => String.fromCodePoint(Number(n)))
    .replace(/&amp;/g, '&')
}

function attrs(tag: string): Record<string, string> {
  const out: Record<string, string> = {}
  const re = /\s([a-zA-Z_:][\w:.-]*)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>"']+)))?/g
  let m: RegExpExecArray | null
  while ((m = re.exec(tag))) out[m[1]!.toLowerCase()] = decodeEntities(m[2] ?? m[3] ?? m[4] ?? '')
  return out
}

/** The inner HTML of every POST form whose action is `action` (query and fragment ignored). */
export function formsFor(html: string, action: string): string[] {
  const out: string[] = []
  const re = /<form\b[^>]*>/gi
  let m: RegExpExecArray | null
  while ((m = re.exec(html))) {
    const a = attrs(m[0])
    if ((a.method ?? 'get').toLowerCase() !== 'post') continue
    if ((a.action ?? '').replace(/[?#].*$/, '') !== action) continue
    const end = html.indexOf('</form>', m.index)
    out.push(html.slice(m.index + m[0].length, end < 0 ? undefined : end))
  }
  return out
}

/** The fields of one form as a browser sends them: checked boxes, the selected option, the first named button. */
export function formFields(inner: string): FormField[] {
  const fields: FormField[] = []
  let buttonTaken = new Set<string>()
  const re = /<(input|select|textarea|button)\b([^>]*)>([\s\S]*?<\/\1>)?/gi
  let m: RegExpExecArray | null
  while ((m = re.exec(inner))) {
    const tag = m[1]!.toLowerCase()
    const a = attrs(` ${m[2]}`)
    const name = a.name
    if (!name || a.disabled !== undefined) continue
    if (tag === 'input') {
      const type = (a.type ?? 'text').toLowerCase()
      if (type === 'file' || type === 'reset' || type === 'image') continue
      if (type === 'submit' || type === 'button') {
        if (!buttonTaken.has(name)) fields.push({ name, value: a.value ?? '', type: 'button' })
        buttonTaken.add(name)
        continue
      }
      if ((type === 'checkbox' || type === 'radio') && a.checked === undefined) continue
      const ftype: FieldType =
        type === 'checkbox'
          ? 'bool'
          : type === 'radio'
            ? 'enum'
            : type === 'date'
              ? 'date'
              : type === 'number'
                ? a.step && a.step !== '1'
                  ? 'money'
                  : 'int'
                : type === 'hidden'
                  ? 'hidden'
                  : type === 'password'
                    ? 'password'
                    : a.inputmode === 'decimal'
                      ? 'money'
                      : a.inputmode === 'numeric'
                        ? 'int'
                        : 'text'
      fields.push({ name, value: a.value ?? '', type: ftype })
    } else if (tag === 'textarea') {
      fields.push({ name, value: decodeEntities((m[3] ?? '').replace(/<\/textarea>$/i, '')).replace(/^\n/, ''), type: 'text' })
    } else if (tag === 'select') {
      const options = [...(m[3] ?? '').matchAll(/<option\b([^>]*)>([^<]*)/gi)].map((o) => ({ a: attrs(` ${o[1]}`), text: decodeEntities(o[2]!.trim()) }))
      const chosen = options.find((o) => o.a.selected !== undefined) ?? options[0]
      const values = options.map((o) => o.a.value ?? o.text)
      fields.push({ name, value: chosen ? (chosen.a.value ?? chosen.text) : '', type: values.length > 0 ? 'enum' : 'text' })
    } else if (tag === 'button') {
      if ((a.type ?? 'submit').toLowerCase() !== 'submit' || buttonTaken.has(name)) continue
      buttonTaken.add(name)
      fields.push({ name, value: a.value ?? '', type: 'button' })
    }
  }
  buttonTaken = new Set()
  return fields
}
