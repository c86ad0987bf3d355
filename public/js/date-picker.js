/*
 * The calendar beside every date box (input[data-date], written by dateAttrs in
 * server/web/view-helpers.ts). The box takes typed text on its own — «15/10/2568», Buddhist era —
 * and the server reads it (server/web/typed-date.ts); this only adds a button that opens a month
 * in Thai with พ.ศ. years and writes the chosen day back as dd/mm/25xx.
 *
 * Follows the WAI-ARIA date picker dialog pattern: a modal dialog with a grid of day buttons, one
 * in the tab order; arrows move a day or a week, Home/End to the week's ends, PageUp/PageDown a
 * month (with Shift a year), Enter or Space chooses, Esc closes and gives focus back to the button.
 */
;(() => {
  const boxes = document.querySelectorAll('input[data-date]')
  if (boxes.length === 0) return

  const en = (document.documentElement.lang || 'th').startsWith('en')
  const T = en
    ? {
        open: 'Choose from the calendar',
        openFor: (label) => `Choose ${label} from the calendar`,
        prevYear: 'Previous year',
        prevMonth: 'Previous month',
        nextMonth: 'Next month',
        nextYear: 'Next year',
        today: 'Today',
        close: 'Close',
        help: 'Arrow keys move a day or a week, Page Up and Page Down a month, Enter chooses, Esc closes.',
        months: ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'],
        days: ['Su', 'Mo', 'Tu', 'We', 'Th', 'Fr', 'Sa'],
        dayNames: ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'],
        era: 'B.E.',
      }
    : {
        open: 'เลือกจากปฏิทิน',
        openFor: (label) => `เลือก${label}จากปฏิทิน`,
        prevYear: 'ปีก่อน',
        prevMonth: 'เดือนก่อน',
        nextMonth: 'เดือนถัดไป',
        nextYear: 'ปีถัดไป',
        today: 'วันนี้',
        close: 'ปิด',
        help: 'ลูกศรเลื่อนทีละวันหรือสัปดาห์ Page Up/Page Down เลื่อนทีละเดือน Enter เลือก Esc ปิด',
        months: ['มกราคม', 'กุมภาพันธ์', 'มีนาคม', 'เมษายน', 'พฤษภาคม', 'มิถุนายน', 'กรกฎาคม', 'สิงหาคม', 'กันยายน', 'ตุลาคม', 'พฤศจิกายน', 'ธันวาคม'],
        days: ['อา', 'จ', 'อ', 'พ', 'พฤ', 'ศ', 'ส'],
        dayNames: ['วันอาทิตย์', 'วันจันทร์', 'วันอังคาร', 'วันพุธ', 'วันพฤหัสบดี', 'วันศุกร์', 'วันเสาร์'],
        era: 'พ.ศ.',
      }
  const BE = 543

  // --- dates as {y, m, d} (Common Era, m 1–12); the same reading rules as the server's.
  const pad = (n) => String(n).padStart(2, '0')
  const iso = (x) => `${x.y}-${pad(x.m)}-${pad(x.d)}`
  const fromIso = (s) => {
    const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(s || '')
    return m ? { y: Number(m[1]), m: Number(m[2]), d: Number(m[3]) } : null
  }
  const daysIn = (y, m) => new Date(Date.UTC(y, m, 0)).getUTCDate()
  const weekday = (x) => new Date(Date.UTC(x.y, x.m - 1, x.d)).getUTCDay()
  const addDays = (x, n) => {
    const t = new Date(Date.UTC(x.y, x.m - 1, x.d + n))
    return { y: t.getUTCFullYear(), m: t.getUTCMonth() + 1, d: t.getUTCDate() }
  }
  const addMonths = (x, n) => {
    const total = x.y * 12 + (x.m - 1) + n
    const y = Math.floor(total / 12)
    const m = (total % 12) + 1
    return { y, m, d: Math.min(x.d, daysIn(y, m)) }
  }
  const cmp = (a, b) => (iso(a) < iso(b) ? -1 : iso(a) > iso(b) ? 1 : 0)
  const shown = (x) => `${pad(x.d)}/${pad(x.m)}/${x.y + BE}`
  const typed = (text) => {
    const s = (text || '')
      .normalize('NFKC')
      .replace(/[๐-๙]/g, (c) => String(c.charCodeAt(0) - 0x0e50))
      .trim()
    let y
    let m
    let d
    let r = /^(\d{4})-(\d{1,2})-(\d{1,2})$/.exec(s)
    if (r) [y, m, d] = [Number(r[1]), Number(r[2]), Number(r[3])]
    else {
      r = /^(\d{1,2})\s*[/.\-\s]\s*(\d{1,2})\s*[/.\-\s]\s*(\d{4})$/.exec(s) || /^(\d{2})(\d{2})(\d{4})$/.exec(s)
      if (!r) return null
      ;[d, m, y] = [Number(r[1]), Number(r[2]), Number(r[3])]
    }
    if (y >= 2400) y -= BE
    if (y < 1900 || y > 2300 || m < 1 || m > 12 || d < 1 || d > daysIn(y, m)) return null
    return { y, m, d }
  }
  const bangkokToday = () => {
    const t = new Date(Date.now() + 7 * 3600_000)
    return { y: t.getUTCFullYear(), m: t.getUTCMonth() + 1, d: t.getUTCDate() }
  }
  const spoken = (x) => `${T.dayNames[weekday(x)]} ${x.d} ${T.months[x.m - 1]} ${T.era} ${x.y + BE}`

  // --- one dialog, shared by every box on the page.
  let uid = 0
  const el = (tag, attrs = {}, text) => {
    const e = document.createElement(tag)
    for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v)
    if (text !== undefined) e.textContent = text
    return e
  }
  const dialog = el('div', { class: 'date-picker', role: 'dialog', 'aria-modal': 'true', 'aria-labelledby': 'date-picker-heading', hidden: '' })
  const head = el('div', { class: 'date-picker-head' })
  const navButton = (cls, label, glyph) => el('button', { type: 'button', class: `date-nav ${cls}`, 'aria-label': label }, glyph)
  const prevYear = navButton('prev-year', T.prevYear, '«')
  const prevMonth = navButton('prev-month', T.prevMonth, '‹')
  const heading = el('h2', { id: 'date-picker-heading', class: 'date-picker-heading', 'aria-live': 'polite' })
  const nextMonth = navButton('next-month', T.nextMonth, '›')
  const nextYear = navButton('next-year', T.nextYear, '»')
  head.append(prevYear, prevMonth, heading, nextMonth, nextYear)
  const grid = el('table', { class: 'date-picker-grid', role: 'grid', 'aria-labelledby': 'date-picker-heading' })
  const thead = el('thead')
  const headRow = el('tr')
  T.days.forEach((d, i) => {
    const th = el('th', { scope: 'col', abbr: T.dayNames[i] }, d)
    headRow.append(th)
  })
  thead.append(headRow)
  const tbody = el('tbody')
  grid.append(thead, tbody)
  const foot = el('div', { class: 'date-picker-foot' })
  const help = el('p', { class: 'date-picker-help', id: 'date-picker-help' }, T.help)
  const todayButton = el('button', { type: 'button', class: 'date-today' }, T.today)
  const closeButton = el('button', { type: 'button', class: 'date-close' }, T.close)
  foot.append(todayButton, closeButton)
  dialog.append(head, grid, foot, help)
  dialog.setAttribute('aria-describedby', 'date-picker-help')
  document.body.append(dialog)

  let box = null // the input being chosen for
  let opener = null // its button
  let focus = null // the day with the grid's focus
  let chosen = null

  const limits = () => ({ min: fromIso(box?.dataset.min), max: fromIso(box?.dataset.max) })
  const allowed = (x) => {
    const { min, max } = limits()
    return !(min && cmp(x, min) < 0) && !(max && cmp(x, max) > 0)
  }

  function render() {
    heading.textContent = `${T.months[focus.m - 1]} ${T.era} ${focus.y + BE}`
    tbody.replaceChildren()
    const first = { y: focus.y, m: focus.m, d: 1 }
    let day = addDays(first, -weekday(first))
    const today = bangkokToday()
    for (let week = 0; week < 6; week++) {
      const row = el('tr')
      for (let i = 0; i < 7; i++) {
        const cell = el('td', { role: 'gridcell' })
        if (day.m === focus.m) {
          const b = el('button', { type: 'button', class: 'date-day', 'data-iso': iso(day), tabindex: '-1', 'aria-label': spoken(day) }, String(day.d))
          if (chosen && cmp(day, chosen) === 0) {
            cell.setAttribute('aria-selected', 'true')
          }
          if (cmp(day, today) === 0) b.setAttribute('aria-current', 'date')
          if (!allowed(day)) b.setAttribute('aria-disabled', 'true')
          if (cmp(day, focus) === 0) b.setAttribute('tabindex', '0')
          cell.append(b)
        }
        row.append(cell)
        day = addDays(day, 1)
      }
      tbody.append(row)
      if (day.m !== focus.m && week >= 3) break
    }
  }

  function moveTo(x, takeFocus = true) {
    focus = x
    render()
    if (takeFocus) tbody.querySelector('button[tabindex="0"]')?.focus()
  }

  function place() {
    const r = box.getBoundingClientRect()
    const width = dialog.offsetWidth
    const left = Math.max(8, Math.min(r.left + window.scrollX, window.scrollX + document.documentElement.clientWidth - width - 8))
    dialog.style.left = `${left}px`
    dialog.style.top = `${r.bottom + window.scrollY + 4}px`
  }

  function open(input, button) {
    box = input
    opener = button
    chosen = typed(input.value)
    let start = chosen || bangkokToday()
    const { min, max } = limits()
    if (!chosen && min && cmp(start, min) < 0) start = min
    if (!chosen && max && cmp(start, max) > 0) start = max
    dialog.hidden = false
    button.setAttribute('aria-expanded', 'true')
    moveTo(start, false)
    place()
    tbody.querySelector('button[tabindex="0"]')?.focus()
  }

  function close(returnFocus = true) {
    if (dialog.hidden) return
    dialog.hidden = true
    opener?.setAttribute('aria-expanded', 'false')
    if (returnFocus) opener?.focus()
    box = null
  }

  function choose(x) {
    if (!allowed(x)) return
    box.value = shown(x)
    box.dispatchEvent(new Event('input', { bubbles: true }))
    box.dispatchEvent(new Event('change', { bubbles: true }))
    close()
  }

  prevYear.addEventListener('click', () => moveTo(addMonths(focus, -12), false))
  prevMonth.addEventListener('click', () => moveTo(addMonths(focus, -1), false))
  nextMonth.addEventListener('click', () => moveTo(addMonths(focus, 1), false))
  nextYear.addEventListener('click', () => moveTo(addMonths(focus, 12), false))
  todayButton.addEventListener('click', () => choose(bangkokToday()))
  closeButton.addEventListener('click', () => close())
  tbody.addEventListener('click', (e) => {
    const b = e.target.closest('button.date-day')
    if (b) choose(fromIso(b.dataset.iso))
  })
  tbody.addEventListener('keydown', (e) => {
    const moves = {
      ArrowLeft: () => addDays(focus, -1),
      ArrowRight: () => addDays(focus, 1),
      ArrowUp: () => addDays(focus, -7),
      ArrowDown: () => addDays(focus, 7),
      Home: () => addDays(focus, -weekday(focus)),
      End: () => addDays(focus, 6 - weekday(focus)),
      PageUp: () => addMonths(focus, e.shiftKey ? -12 : -1),
      PageDown: () => addMonths(focus, e.shiftKey ? 12 : 1),
    }
    if (moves[e.key]) {
      e.preventDefault()
      moveTo(moves[e.key]())
    } else if (e.key === 'Enter' || e.key === ' ') {
      e.preventDefault()
      choose(focus)
    }
  })
  dialog.addEventListener('keydown', (e) => {
    if (e.key === 'Escape') {
      e.preventDefault()
      e.stopPropagation()
      close()
    } else if (e.key === 'Tab') {
      // Modal: Tab goes round the dialog's controls (the grid counts once, at its focused day).
      const stops = [prevYear, prevMonth, nextMonth, nextYear, tbody.querySelector('button[tabindex="0"]'), todayButton, closeButton].filter(Boolean)
      const i = stops.indexOf(document.activeElement)
      const next = stops[(i + (e.shiftKey ? -1 : 1) + stops.length) % stops.length]
      e.preventDefault()
      next.focus()
    }
  })
  document.addEventListener('mousedown', (e) => {
    if (!dialog.hidden && !dialog.contains(e.target) && e.target !== opener) close(false)
  })
  window.addEventListener('resize', () => {
    if (!dialog.hidden) place()
  })

  // --- a button beside each box.
  for (const input of boxes) {
    if (!input.id) input.id = `date-box-${++uid}`
    const label = input.closest('label')
    // Inside a <label>, the box is named by the label's own text, not the button's name too.
    if (label && !input.hasAttribute('aria-labelledby')) {
      const text = label.querySelector('span')
      if (text) {
        if (!text.id) text.id = `${input.id}-label`
        input.setAttribute('aria-labelledby', text.id)
      }
    }
    const labelText = (label?.querySelector('span') || document.querySelector(`label[for="${CSS.escape(input.id)}"]`))?.textContent?.trim()
    const wrap = el('span', { class: 'date-box' })
    input.replaceWith(wrap)
    const button = el('button', {
      type: 'button',
      class: 'date-open',
      'aria-label': labelText ? T.openFor(labelText) : T.open,
      'aria-haspopup': 'dialog',
      'aria-expanded': 'false',
      title: T.open,
    })
    button.append(calendarIcon())
    wrap.append(input, button)
    button.addEventListener('click', () => (dialog.hidden || box !== input ? open(input, button) : close()))
    input.addEventListener('keydown', (e) => {
      // Alt+ArrowDown opens the calendar from the box, as a native date box does.
      if (e.altKey && e.key === 'ArrowDown') {
        e.preventDefault()
        open(input, button)
      }
    })
  }

  function calendarIcon() {
    const ns = 'http://www.w3.org/2000/svg'
    const svg = document.createElementNS(ns, 'svg')
    svg.setAttribute('viewBox', '0 0 24 24')
    svg.setAttribute('width', '20')
    svg.setAttribute('height', '20')
    svg.setAttribute('aria-hidden', 'true')
    svg.setAttribute('focusable', 'false')
    for (const d of ['M4 6h16v14H4z', 'M4 10h16', 'M8 3v5', 'M16 3v5']) {
      const p = document.createElementNS(ns, 'path')
      p.setAttribute('d', d)
      svg.append(p)
    }
    return svg
  }
})()
