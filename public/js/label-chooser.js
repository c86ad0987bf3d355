// The label chooser: "select all on this page" and a running count of the ticked assets (or pools and kits).
;(() => {
  var form = document.getElementById('label-chooser')
  if (!form) return
  var pickPage = document.getElementById('pick-page')
  var all = document.getElementById('all')
  var count = document.getElementById('chooser-count')
  var boxes = Array.prototype.slice.call(form.querySelectorAll('input[name="ids"], input[name="stock"], input[name="kits"]'))

  function update() {
    var n = boxes.filter((b) => b.checked).length
    if (count) count.textContent = n > 0 && !all?.checked ? count.getAttribute('data-template').replace('{count}', String(n)) : ''
    if (pickPage) {
      pickPage.checked = n > 0 && n === boxes.length
      pickPage.indeterminate = n > 0 && n < boxes.length
    }
  }

  if (pickPage && boxes.length > 0) {
    document.getElementById('pick-page-label').hidden = false
    pickPage.addEventListener('change', () => {
      boxes.forEach((b) => {
        b.checked = pickPage.checked
      })
      update()
    })
  }
  boxes.forEach((b) => {
    b.addEventListener('change', update)
  })
  if (all) all.addEventListener('change', update)
  update()
})()
