// The label sheet's print button; waits for the Thai font so that no label prints in a fallback face.
;(() => {
  var button = document.getElementById('print-button')
  if (!button) return
  button.hidden = false
  button.addEventListener('click', () => {
    var ready = document.fonts?.ready ? document.fonts.ready : Promise.resolve()
    ready.then(() => {
      window.print()
    })
  })
})()
