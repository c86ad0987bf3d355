// The print button of the A4 documents (views/print/): shown only with JavaScript, and it waits
// for the Thai font so that nothing prints in a fallback face.
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
