// The hand-over and return screens: a scanner "types" a label (its URL or the bare code) into the
// field and presses Enter; here that ticks the item's box without leaving the page. Without this
// script the same Enter sends the form (op=scan) and the server ticks the box, so both work.
;(() => {
  var form = document.querySelector('form[data-scan-form]')
  if (!form) return
  var input = form.querySelector('#scan')
  var status = form.querySelector('#scan-status')
  var scanButton = form.querySelector('button[value="scan"]')
  var boxes = Array.prototype.slice.call(form.querySelectorAll('input[type="checkbox"][data-code]'))
  // Counted lines (chairs, tent sets): scanning the pool's label puts the cursor in its count field.
  var counts = Array.prototype.slice.call(form.querySelectorAll('input[data-stock-code]'))
  if (!input || (boxes.length === 0 && counts.length === 0)) return
  // A kit's label stands for its parts on this loan: { code: { name, assets: [codes], stock: { code: quantity } } }.
  var kits = {}
  try {
    kits = JSON.parse(form.getAttribute('data-kits') || '{}') || {}
  } catch (_e) {
    kits = {}
  }

  function msg(name, values) {
    var text = form.getAttribute(`data-msg-${name}`) || ''
    Object.keys(values || {}).forEach((k) => {
      text = text.split(`{${k}}`).join(values[k])
    })
    return text
  }

  function codeOf(raw) {
    var text = String(raw)
      .replace(/[\u0000-\u001f\u007f]/g, '')
      .trim()
    var m = /\/q\/([^?#]+)/.exec(text)
    if (m) {
      try {
        text = decodeURIComponent(m[1])
      } catch (_e) {
        text = m[1]
      }
    }
    return text.normalize ? text.normalize('NFC').trim() : text.trim()
  }

  // The register's comparison key (db/schema.ts codeKey): an old label's ํา for ำ, Thai digits,
  // case and spaces do not matter.
  function keyOf(code) {
    var s = String(code || '')
    if (s.normalize) s = s.normalize('NFKC')
    return s
      .replace(/[\u0E50-\u0E59]/g, (d) => String(d.charCodeAt(0) - 0x0e50))
      .toLowerCase()
      .replace(/\s+/g, '')
  }

  function kitCode(code) {
    var k = keyOf(code)
    return Object.keys(kits).filter((c) => keyOf(c) === k)[0]
  }

  function refresh() {
    boxes.forEach((b) => {
      var row = b.closest('li')
      if (row) row.classList.toggle('ticked', b.checked)
    })
  }

  function progress() {
    var done = boxes.filter((b) => b.checked).length
    return msg('progress', { done: String(done), total: String(boxes.length) })
  }

  function say(text, bad) {
    // A good scan after a refused one: the red message of the refused one (shown by the server after
    // a scan it could not place) no longer describes the screen, so it goes.
    if (!bad) {
      var stale = document.querySelectorAll('#screen-error, .flash-error')
      for (var i = 0; i < stale.length; i++) stale[i].remove()
    }
    if (!status) return
    status.textContent = text
    status.classList.toggle('bad', !!bad)
  }

  function flashRow(row) {
    if (!row) return
    row.classList.remove('flash-tick')
    void row.offsetWidth
    row.classList.add('flash-tick')
  }

  // Ticks the kit's items and fills an empty count of its counted parts (on the return screen the
  // "good" count, when the line's three counts are all empty, at most what is still out).
  function takeKit(code, kit) {
    var n = 0
    ;(kit.assets || []).forEach((c) => {
      var box = boxes.filter((b) => b.getAttribute('data-code') === c)[0]
      if (!box) return
      box.checked = true
      n++
      flashRow(box.closest('li'))
    })
    Object.keys(kit.stock || {}).forEach((c) => {
      var field = counts.filter((f) => f.getAttribute('data-stock-code') === c)[0]
      if (!field) return
      n++
      var row = field.closest('li')
      var all = row ? Array.prototype.slice.call(row.querySelectorAll('input[data-count]')) : [field]
      if (all.some((f) => f.value.trim() !== '')) return
      var q = Number(kit.stock[c])
      var left = row?.getAttribute('data-outstanding')
      if (left !== null && left !== undefined && left !== '' && Number(left) < q) q = Number(left)
      field.value = String(q)
      field.dispatchEvent(new Event('input', { bubbles: true }))
      flashRow(row)
    })
    refresh()
    say(msg('kit', { code: code, name: kit.name || '', count: String(n) }) + (boxes.length ? ` · ${progress()}` : ''), false)
    input.value = ''
    input.focus()
  }

  function handle() {
    var code = codeOf(input.value)
    if (!code) return
    var key = keyOf(code)
    var kit = kitCode(code)
    if (kit !== undefined && !boxes.some((b) => keyOf(b.getAttribute('data-code')) === key)) {
      takeKit(kit, kits[kit])
      return
    }
    var box = boxes.filter((b) => keyOf(b.getAttribute('data-code')) === key)[0]
    var count = counts.filter((c) => keyOf(c.getAttribute('data-stock-code')) === key)[0]
    if (!box && count) {
      input.value = ''
      say(msg('count', { code: code }), false)
      count.focus()
      if (count.select) count.select()
      return
    }
    if (!box) {
      // Perhaps typed on a Thai keyboard layout or a label of another form: let the server decide.
      if (scanButton && form.requestSubmit) form.requestSubmit(scanButton)
      else say(msg('unknown', { code: code }), true)
      return
    }
    var again = box.checked
    box.checked = true
    refresh()
    var row = box.closest('li')
    if (row) {
      row.classList.remove('flash-tick')
      void row.offsetWidth
      row.classList.add('flash-tick')
    }
    say(`${again ? msg('again', { code: code }) : msg('ok', { code: code })} · ${progress()}`, false)
    input.value = ''
    input.focus()
  }

  input.addEventListener('keydown', (e) => {
    if (e.key === 'Enter') {
      e.preventDefault()
      handle()
    }
  })
  if (scanButton) {
    scanButton.addEventListener('click', (e) => {
      if (codeOf(input.value) === '') {
        e.preventDefault()
        input.focus()
        return
      }
      var key = keyOf(codeOf(input.value))
      if (
        kitCode(key) !== undefined ||
        boxes.some((b) => keyOf(b.getAttribute('data-code')) === key) ||
        counts.some((c) => keyOf(c.getAttribute('data-stock-code')) === key)
      ) {
        e.preventDefault()
        handle()
      }
    })
  }
  // Enter in a count field goes on to the next count field (or back to the scan field), never sends the form.
  var countFields = Array.prototype.slice.call(form.querySelectorAll('input[data-count]'))
  countFields.forEach((c, i) => {
    c.addEventListener('keydown', (e) => {
      if (e.key !== 'Enter') return
      e.preventDefault()
      var next = countFields[i + 1] || input
      next.focus()
      if (next.select) next.select()
    })
  })
  boxes.forEach((b) => {
    b.addEventListener('change', () => {
      refresh()
      say(progress(), false)
    })
  })
})()
