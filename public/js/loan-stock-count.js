// The return screen's counted lines: as good / damaged / lost are typed, say how many that makes
// of what is still out, so that a shortfall is seen (and entered as lost) before sending.
;(() => {
  var THAI = /[\u0E50-\u0E59]/g
  function count(v) {
    var s = String(v || '')
      .replace(THAI, (d) => String(d.charCodeAt(0) - 0x0e50))
      .replace(/[,\s]/g, '')
    return /^\d+$/.test(s) ? Number(s) : 0
  }
  Array.prototype.slice.call(document.querySelectorAll('li[data-outstanding]')).forEach((line) => {
    var fields = Array.prototype.slice.call(line.querySelectorAll('input[data-count]'))
    var total = line.querySelector('.count-total')
    var outstanding = Number(line.getAttribute('data-outstanding'))
    var template = line.getAttribute('data-msg-total') || ''
    if (!total || fields.length === 0) return
    function update() {
      var sum = fields.reduce((a, f) => a + count(f.value), 0)
      total.textContent = template.split('{sum}').join(String(sum)).split('{outstanding}').join(String(outstanding))
      total.classList.toggle('over', sum > outstanding)
      total.classList.toggle('complete', sum === outstanding)
    }
    fields.forEach((f) => {
      f.addEventListener('input', update)
    })
    update()
  })
})()
