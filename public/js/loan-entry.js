// Progressive disclosure on the loan entry form: without this file every field simply shows.
// Parts follow a radio group (data-reveal-radio), a checkbox (data-reveal-check) or a select
// (data-reveal-select); hidden parts keep their values, and the server ignores what does not apply.
;(() => {
  var form = document.getElementById('loan-entry')
  if (!form) return
  var parts = form.querySelectorAll('[data-reveal-radio], [data-reveal-check], [data-reveal-select]')

  function shows(el) {
    var want = el.getAttribute('data-reveal-value')
    var radio = el.getAttribute('data-reveal-radio')
    if (radio) {
      var checked = form.querySelector(`input[name="${radio}"]:checked`)
      return !!checked && checked.value === want
    }
    var check = el.getAttribute('data-reveal-check')
    if (check) {
      var box = document.getElementById(check)
      return !!box && box.checked
    }
    var select = document.getElementById(el.getAttribute('data-reveal-select'))
    return !!select && select.value === want
  }

  function sync() {
    for (var i = 0; i < parts.length; i++) {
      var el = parts[i]
      // A part with an error message stays open so that the message is seen.
      var hasError = !!el.querySelector('[aria-invalid="true"]')
      el.hidden = !(shows(el) || hasError)
    }
  }

  form.addEventListener('change', sync)
  sync()
})()
