// On wide screens the navigation stands open in the top bar; on phones it is the "เมนู" button.
;(() => {
  var menu = document.querySelector('details.menu')
  if (!menu || !window.matchMedia) return
  var wide = window.matchMedia('(min-width: 64rem)')
  function sync() {
    menu.open = wide.matches
  }
  sync()
  if (wide.addEventListener) wide.addEventListener('change', sync)
})()
