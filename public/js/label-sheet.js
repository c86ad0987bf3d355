// The label sheet's print button; waits for the Thai font so that no label prints in a fallback face.
;(() => {
  var button = document.getElementById('print-button')
  if (!button) return
  button.hidden = false
  button.addEventListener('click', () => {
    var ready = document.fonts?.ready ? document.fonts.ready : Promise.resolve()
    ready.then(() => {
      window.print()
      // The first-run checklist ticks «print the labels» from this record (issue 16); a failure changes nothing here.
      var form = document.getElementById('printed-form')
      if (form) fetch(form.action, { method: 'POST', body: new URLSearchParams(new FormData(form)), credentials: 'same-origin' }).catch(() => {})
    })
  })
})()
