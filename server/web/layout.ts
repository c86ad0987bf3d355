import type { Response } from 'express'

/*
 * One layout for every page. The page's own view renders first; while it renders it may call
 *
 *   <% style('loans.css') %>        a stylesheet for <head> (from /css unless it starts with '/')
 *   <% script('loan-scan.js') %>    a deferred script for <head> (from /js unless it starts with '/')
 *   <% useLayout('print', { … }) %> another frame: views/layouts/<name>.ejs; false for a fragment
 *
 * — partials included by the view may call them too (each file is listed once, in the order first
 * asked for). Then views/layouts/<name>.ejs (default 'app') renders around it with `body`, `styles`,
 * `scripts` and `frame` (the options given to useLayout), so no stylesheet ever sits in <body>.
 *
 * useLayouts(res) is installed by the page locals (signed-in pages), the public pages' locals and the
 * error handler; a second call does nothing.
 */

export type LayoutName = 'app' | 'print' | 'public' | 'bare'

/** What a layout may be told by the page (print: the toolbar's texts; bare: the body's class). */
export interface FrameOptions {
  /** Added to the body's class. */
  bodyClass?: string
  /** print: the back link's text (default «กลับ»), the toolbar's heading (default the title), the hint under it. */
  back?: string
  heading?: string
  hint?: string
  /** print: what follows the title in <title> (default the application's name). */
  titleSuffix?: string
  /** bare: the page's language (default the reader's). */
  lang?: string
}

type RenderCallback = (err: Error | null, html?: string) => void

const INSTALLED = Symbol('layouts')

function assetPath(dir: string, file: string): string {
  return file.startsWith('/') ? file : `/${dir}/${file}`
}

/** The parts one render collects from its view and partials. */
function pageParts() {
  const styles: string[] = []
  const scripts: string[] = []
  let layout: LayoutName | false = 'app'
  let frame: FrameOptions = {}
  const add = (list: string[], href: string) => {
    if (!list.includes(href)) list.push(href)
    return ''
  }
  return {
    styles,
    scripts,
    get layout() {
      return layout
    },
    get frame() {
      return frame
    },
    helpers: {
      style: (file: string) => add(styles, assetPath('css', file)),
      script: (file: string) => add(scripts, assetPath('js', file)),
      useLayout: (name: LayoutName | false, options: FrameOptions = {}) => {
        layout = name
        frame = options
        return ''
      },
    },
  }
}

/** Makes res.render put the page into its layout. */
export function useLayouts(res: Response): void {
  const target = res as Response & { [INSTALLED]?: true }
  if (target[INSTALLED]) return
  target[INSTALLED] = true
  const render = res.render.bind(res) as (view: string, options: object, callback: RenderCallback) => void
  res.render = function renderInLayout(view: string, options?: object | RenderCallback, callback?: RenderCallback): void {
    const given = typeof options === 'function' || options === undefined ? {} : options
    const cb = typeof options === 'function' ? (options as RenderCallback) : callback
    const done: RenderCallback =
      cb ??
      ((err, html) => {
        if (err) res.req.next?.(err)
        else res.send(html)
      })
    const parts = pageParts()
    render(view, { ...given, ...parts.helpers }, (err, body) => {
      if (err) return done(err)
      if (parts.layout === false) return done(null, body)
      render(`layouts/${parts.layout}`, { ...given, ...parts.helpers, body, styles: parts.styles, scripts: parts.scripts, frame: parts.frame }, done)
    })
  } as Response['render']
}
