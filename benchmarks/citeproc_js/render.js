// Reference renderings with citeproc-js (through citation-js), for the
// formatting fidelity test and benchmarks/format_agreement.py.
//
//   node render.js                 writes tests/data/citeproc_js/STYLE.READING.json
//                                  (run through regenerate.py, which writes the inputs)
//   node render.js --ids < raw.json  prints the ids citation-js reads from a JSON
//                                  list of BibTeX entries (each parsed alone)
//   node render.js --csl STYLE.csl < items.json
//                                  prints {id: html} for CSL-JSON items
//
// Every reading of the 200 entries is rendered as one bibliography per
// style, with the style files stored in tests/data/citeproc_js/styles/, and
// so are the 100 items of pandoc 2.x's CSL-JSON (entries.pandoc2.json).
'use strict'
const fs = require('fs')
const path = require('path')
const { Cite, plugins } = require('@citation-js/core')
require('@citation-js/plugin-bibtex')
require('@citation-js/plugin-csl')

const DATA = path.resolve(__dirname, '..', '..', 'tests', 'data', 'citeproc_js')
const STYLES = ['apa', 'ieee']

function register (name, file) {
  plugins.config.get('@csl').styles.add(name, fs.readFileSync(file, 'utf8'))
}

function render (items, template) {
  const cite = new Cite(items)
  const entries = cite.format('bibliography', {
    format: 'html', template, lang: 'en-US', asEntryArray: true
  })
  const out = {}
  for (const [id, html] of entries) out[id] = html.trim()
  return out
}

function sorted (obj) {
  const out = {}
  for (const key of Object.keys(obj).sort()) out[key] = obj[key]
  return out
}

function main () {
  const args = process.argv.slice(2)
  if (args[0] === '--ids') {
    // One entry at a time: one entry the parser rejects must not hide the others.
    const ids = []
    for (const raw of JSON.parse(fs.readFileSync(0, 'utf8'))) {
      try {
        for (const item of new Cite(raw).data) ids.push(item.id)
      } catch (e) {}
    }
    process.stdout.write(JSON.stringify(ids))
    return
  }
  if (args[0] === '--csl') {
    register('given', args[1])
    const items = JSON.parse(fs.readFileSync(0, 'utf8'))
    process.stdout.write(JSON.stringify(render(items, 'given')))
    return
  }
  // Three readings of the same entries, each rendered by citeproc-js:
  // bibtools' CSL-JSON, pandoc's CSL-JSON, and citation-js's own BibTeX reader.
  const csl = JSON.parse(fs.readFileSync(path.join(DATA, 'entries.csl.json'), 'utf8'))
  const fromBib = new Cite(fs.readFileSync(path.join(DATA, 'entries.bib'), 'utf8')).data
  // _graph is citation-js's provenance (the whole input, per item): not CSL.
  const citationjs = fromBib.map(({ _graph, ...item }) => item)
  fs.writeFileSync(path.join(DATA, 'items.citationjs.json'), JSON.stringify(citationjs, null, 1) + '\n')
  const readings = {
    bibtools: JSON.parse(fs.readFileSync(path.join(DATA, 'items.bibtools.json'), 'utf8')),
    pandoc: JSON.parse(fs.readFileSync(path.join(DATA, 'items.pandoc.json'), 'utf8')),
    citationjs: citationjs.concat(csl)
  }
  // pandoc 2.x's CSL-JSON of the BibTeX fixtures, as a file a user has: its
  // own bibliography, rendered as it is (see select_pandoc2.py).
  readings.pandoc2 = JSON.parse(fs.readFileSync(path.join(DATA, 'entries.pandoc2.json'), 'utf8'))
  for (const style of STYLES) {
    register('ref-' + style, path.join(DATA, 'styles', style + '.csl'))
    for (const [reading, items] of Object.entries(readings)) {
      const out = sorted(render(items, 'ref-' + style))
      fs.writeFileSync(path.join(DATA, `${style}.${reading}.json`), JSON.stringify(out, null, 1) + '\n')
      process.stderr.write(`${style} (${reading}'s CSL-JSON): ${Object.keys(out).length} entries\n`)
    }
  }
}

main()
