// The loan entry page: when finance types or picks the borrowing user, their standing (overdue
// loans, what is still out) appears under the field. The server renders the warning; without this
// file it shows after the form is sent.
;(() => {
  var box = document.getElementById('borrower-standing')
  var input = document.getElementById('borrower')
  if (!box || !input || !window.fetch) return
  var url = box.getAttribute('data-standing-url')
  var last = null
  var timer = null

  function load() {
    var username = input.value.trim()
    if (username === last) return
    last = username
    if (!username) {
      box.innerHTML = ''
      return
    }
    fetch(`${url}?username=${encodeURIComponent(username)}`, { credentials: 'same-origin', headers: { Accept: 'text/html' } })
      .then((res) => (res.ok ? res.text() : ''))
      .then((html) => {
        if (last === username) box.innerHTML = html
      })
      .catch(() => {})
  }

  input.addEventListener('change', load)
  input.addEventListener('input', () => {
    clearTimeout(timer)
    timer = setTimeout(load, 400)
  })
})()
