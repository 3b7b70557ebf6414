// citeproc-js as a consumer of CSL-JSON, for tests/consumers.py.
//
//   NODE_PATH=benchmarks/citeproc_js/node_modules node tests/citeproc_render.js < jobs.json
//
// jobs.json: [{"name": str, "style": "path/to/style.csl", "locale": "en-US", "items": [...]}]
// prints:    [{"name": str, "entries": {id: html}, "errors": {id: message}}]
//
// The engine is citeproc-js itself (CSL.Engine, as Zotero and Mendeley call it),
// not citation-js's Cite: Cite cleans its input first, which would hide the
// very problems a consumer test is for.  Each job is one bibliography (year
// suffixes and numbering depend on the whole list); when the whole list
// fails, every item is rendered alone to say which one does.
'use strict'
const fs = require('fs')
const CSL = require('citeproc')
const LOCALES = require('@citation-js/plugin-csl/lib/locales.json')

// One engine per style and locale, reused as citation-js reuses them: parsing
// a style takes longer than rendering a small file.  updateItems([]) empties
// its registry, so no item of one job is remembered in the next.
const engines = new Map()

function engine (styleXml, locale, items) {
  const byId = new Map(items.map((item) => [String(item.id), item]))
  const retrieveItem = (id) => JSON.parse(JSON.stringify(byId.get(String(id))))
  const hash = `${locale}\n${styleXml}`
  let cp = engines.get(hash)
  if (cp) {
    cp.updateItems([])
    cp.sys.retrieveItem = retrieveItem
  } else {
    const sys = {
      retrieveLocale: (lang) => LOCALES[lang] || LOCALES[String(lang).replace('_', '-')],
      retrieveItem
    }
    cp = new CSL.Engine(sys, styleXml, locale, true)
    cp.opt.development_extensions.wrap_url_and_doi = false
    engines.set(hash, cp)
  }
  return cp
}

class Misaligned extends Error {}

function bibliography (styleXml, locale, items) {
  try {
    return render(engine(styleXml, locale, items), items)
  } catch (e) {
    engines.clear() // an engine that threw is in an unknown state
    if (!(e instanceof Misaligned)) throw e
  }
  // A style may leave an item out of the list without a word (APA: legal
  // cases): find those alone, then render the others together.
  const omitted = new Set()
  for (const item of items) {
    try {
      const one = render(engine(styleXml, locale, [item]), [item])
      if (!Object.keys(one.entries).length) omitted.add(item)
    } catch (e) {
      engines.clear()
      if (!(e instanceof Misaligned)) throw e
      omitted.add(item)
    }
  }
  const out = render(engine(styleXml, locale, items), items.filter((i) => !omitted.has(i)))
  for (const item of omitted) out.errors[String(item.id)] = 'empty entry'
  return out
}

function render (cp, items) {
  cp.updateItems(items.map((item) => String(item.id)))
  const result = cp.makeBibliography()
  if (!result) throw new Error('makeBibliography returned nothing')
  const [meta, html] = result
  // An item with no rendered form (APA lists no personal communication) is in
  // entry_ids and bibliography_errors but has no HTML: the rest line up.
  const errors = {}
  for (const e of meta.bibliography_errors || []) {
    errors[String(e.itemID)] = e.error_code === CSL.ERROR_NO_RENDERED_FORM
      ? 'empty entry'
      : `citeproc-js bibliography error ${e.error_code}`
  }
  const ids = meta.entry_ids.map((id) => String(id[0]))
  const rendered = ids.filter((id) => errors[id] !== 'empty entry')
  if (rendered.length !== html.length) {
    throw new Misaligned(`${html.length} entries for ${rendered.length} items`)
  }
  const entries = {}
  rendered.forEach((id, n) => { entries[id] = html[n].trim() })
  return { entries, errors }
}

// The text of an entry without its label: "[22]" alone is an empty entry.
function text (html) {
  return html.replace(/<div class="csl-left-margin">.*?<\/div>/s, '')
    .replace(/<[^>]*>/g, '').replace(/&[a-z#0-9]+;/gi, ' ').trim()
}

function run (job) {
  const styleXml = fs.readFileSync(job.style, 'utf8')
  const locale = job.locale || 'en-US'
  const items = job.items.filter((item) => item && item.id !== undefined && item.id !== null)
  const errors = {}
  job.items.forEach((item, n) => {
    if (!items.includes(item)) errors[`#${n}`] = 'item without an id'
  })
  let entries = {}
  try {
    const all = bibliography(styleXml, locale, items)
    entries = all.entries
    Object.assign(errors, all.errors)
  } catch (whole) {
    for (const item of items) {
      try {
        const one = bibliography(styleXml, locale, [item])
        Object.assign(entries, one.entries)
        Object.assign(errors, one.errors)
      } catch (e) {
        errors[String(item.id)] = `${e.name}: ${e.message}`.slice(0, 300)
      }
    }
  }
  for (const item of items) {
    const id = String(item.id)
    if (errors[id]) continue
    if (!(id in entries)) errors[id] = 'not rendered'
    else if (!text(entries[id])) errors[id] = 'empty entry'
  }
  return { name: job.name, entries, errors }
}

const jobs = JSON.parse(fs.readFileSync(0, 'utf8'))
// citeproc-js reports some problems on the console; they must not mix with our JSON.
console.log = (...args) => process.stderr.write(args.join(' ') + '\n')
process.stdout.write(JSON.stringify(jobs.map(run)))
