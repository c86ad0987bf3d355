// The scanner page: the camera where the browser allows it (BarcodeDetector, else jsQR), and always
// the text field above, which a person types into and a USB scanner "types" into, ending with Enter.
// Whatever is read goes into that field and the form is sent: the server decides where it leads
// (GET /scan?code=…), so the page works the same with and without this script.
;(() => {
  var root = document.getElementById('scanner')
  var form = document.getElementById('scan-form')
  var input = document.getElementById('code')
  if (!root || !form || !input) return
  var video = document.getElementById('scanner-video')
  var view = document.getElementById('scanner-view')
  var status = document.getElementById('scanner-status')
  var startButton = document.getElementById('camera-start')
  var stopButton = document.getElementById('camera-stop')
  var httpsNote = document.getElementById('https-note')

  function msg(key) {
    return root.getAttribute(`data-msg-${key}`) || ''
  }

  // getUserMedia exists only in a secure context: HTTPS, or localhost.
  if (!window.isSecureContext) {
    if (httpsNote) httpsNote.hidden = false
    return
  }
  root.hidden = false
  if (!navigator.mediaDevices?.getUserMedia) {
    status.textContent = msg('nocamera')
    return
  }
  startButton.hidden = false

  var stream = null
  var timer = null
  var detectPromise = null

  function loadScript(src) {
    return new Promise((resolve, reject) => {
      if (window.jsQR) return resolve()
      var s = document.createElement('script')
      s.src = src
      s.onload = () => {
        resolve()
      }
      s.onerror = reject
      document.head.appendChild(s)
    })
  }

  function jsqrDetector() {
    return loadScript('/vendor/jsqr.js').then(() => {
      var canvas = document.createElement('canvas')
      var ctx = canvas.getContext('2d', { willReadFrequently: true })
      return () => {
        var w = video.videoWidth
        var h = video.videoHeight
        if (!w || !h) return Promise.resolve(null)
        // Large frames cost time and gain nothing: a label fills a good part of the picture.
        var scale = Math.min(1, 960 / Math.max(w, h))
        canvas.width = Math.round(w * scale)
        canvas.height = Math.round(h * scale)
        ctx.drawImage(video, 0, 0, canvas.width, canvas.height)
        var img = ctx.getImageData(0, 0, canvas.width, canvas.height)
        var found = window.jsQR(img.data, img.width, img.height, { inversionAttempts: 'dontInvert' })
        return Promise.resolve(found?.data ? found.data : null)
      }
    })
  }

  function nativeDetector() {
    if (!('BarcodeDetector' in window)) return Promise.reject(new Error('no BarcodeDetector'))
    return window.BarcodeDetector.getSupportedFormats().then((formats) => {
      if (formats.indexOf('qr_code') === -1) throw new Error('no qr_code')
      var detector = new window.BarcodeDetector({ formats: ['qr_code'] })
      return () => detector.detect(video).then((codes) => (codes.length > 0 ? codes[0].rawValue : null))
    })
  }

  function detector() {
    detectPromise = detectPromise || nativeDetector().catch(jsqrDetector)
    return detectPromise
  }

  function loop(detect) {
    if (!stream) return
    detect().then(
      (text) => {
        if (!stream) return
        if (text) found(text)
        else
          timer = setTimeout(() => {
            loop(detect)
          }, 120)
      },
      () => {
        timer = setTimeout(() => {
          loop(detect)
        }, 300)
      },
    )
  }

  function found(text) {
    stop()
    input.value = text
    status.textContent = msg('found').replace('{code}', text)
    if (navigator.vibrate) navigator.vibrate(80)
    form.submit()
  }

  function start() {
    status.textContent = ''
    navigator.mediaDevices
      .getUserMedia({ video: { facingMode: { ideal: 'environment' } }, audio: false })
      .then((s) => {
        stream = s
        video.srcObject = s
        view.hidden = false
        startButton.hidden = true
        stopButton.hidden = false
        input.focus() // a USB scanner keeps working while the camera runs
        return video.play()
      })
      .then(detector)
      .then((detect) => {
        status.textContent = msg('looking')
        loop(detect)
      })
      .catch((err) => {
        stop()
        var name = err?.name
        status.textContent =
          name === 'NotAllowedError' || name === 'SecurityError'
            ? msg('denied')
            : name === 'NotFoundError' || name === 'OverconstrainedError'
              ? msg('nocamera')
              : msg('error')
      })
  }

  function stop() {
    if (timer) clearTimeout(timer)
    timer = null
    if (stream)
      stream.getTracks().forEach((track) => {
        track.stop()
      })
    stream = null
    video.srcObject = null
    view.hidden = true
    stopButton.hidden = true
    startButton.hidden = false
  }

  startButton.addEventListener('click', start)
  stopButton.addEventListener('click', () => {
    stop()
    status.textContent = ''
    input.focus()
  })
  window.addEventListener('pagehide', stop)

  // A kiosk that has already been allowed the camera starts it straight away.
  if (navigator.permissions?.query) {
    navigator.permissions.query({ name: 'camera' }).then(
      (p) => {
        if (p.state === 'granted') start()
      },
      () => {},
    )
  }
})()
