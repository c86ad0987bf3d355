// The counter page: the letter fields follow the borrower type, and tapping an item in the list
// adds its code as a new line of the items field (a counted item waits for its number). Without
// this file every field shows and the codes in the list can be typed.
;(() => {
  var form = document.getElementById('counter-form')
  if (!form) return

  var parts = form.querySelectorAll('[data-reveal-select]')
  function sync() {
    for (var i = 0; i < parts.length; i++) {
      var el = parts[i]
      var select = document.getElementById(el.getAttribute('data-reveal-select'))
      var hasError = !!el.querySelector('[aria-invalid="true"]')
      el.hidden = !(hasError || (select && select.value === el.getAttribute('data-reveal-value')))
    }
  }
  form.addEventListener('change', sync)
  sync()

  var items = document.getElementById('items')
  var chips = form.querySelectorAll('[data-add-code]')
  for (var j = 0; j < chips.length; j++) {
    chips[j].addEventListener('click', (ev) => {
      if (!items) return
      var code = ev.currentTarget.getAttribute('data-add-code')
      var counted = ev.currentTarget.getAttribute('data-counted') === '1'
      // A counted item's code is followed by a space for its number (`490-66-0001 80`); no "x", so a
      // typed "x80" or a second tap never makes "x x80". A second tap on the code still waiting for its
      // number adds nothing.
      var lines = items.value.replace(/\s+$/, '').split('\n')
      var last = lines[lines.length - 1] || ''
      if (counted && last.trim() === code) {
        items.value = `${lines.join('\n')} `
      } else {
        var text = lines.join('\n')
        items.value = (text ? `${text}\n` : '') + code + (counted ? ' ' : '\n')
      }
      items.focus()
      var end = items.value.length
      items.setSelectionRange(end, end)
    })
  }
})()
