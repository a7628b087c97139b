import { describe, expect, it } from 'vitest'
import { LANGUAGES, messages } from '@/locales'

type Tree = { [key: string]: string | Tree }

function flatten(tree: Tree, prefix = ''): Map<string, string> {
  const keys = new Map<string, string>()
  for (const [name, value] of Object.entries(tree)) {
    const key = prefix ? `${prefix}.${name}` : name
    if (typeof value === 'string') keys.set(key, value)
    else for (const [child, text] of flatten(value, key)) keys.set(child, text)
  }
  return keys
}

const catalogues = Object.fromEntries(LANGUAGES.map((language) => [language, flatten(messages[language])]))

describe('i18n catalogues', () => {
  it('have exactly the same keys', () => {
    const [first, ...others] = LANGUAGES
    const reference = [...(catalogues[first]?.keys() ?? [])].sort()
    expect(reference.length).toBeGreaterThan(50)
    for (const language of others) {
      expect([...(catalogues[language]?.keys() ?? [])].sort(), `keys of ${language} differ from ${first}`).toEqual(
        reference,
      )
    }
  })

  it('have no empty texts', () => {
    for (const language of LANGUAGES) {
      const empty = [...(catalogues[language] ?? [])].filter(([, text]) => !text.trim()).map(([key]) => key)
      expect(empty, `empty texts in ${language}`).toEqual([])
    }
  })

  it('use the same placeholders in every language', () => {
    const placeholders = (text: string) => [...text.matchAll(/\{(\w+)\}/g)].map((match) => match[1]).sort()
    const [first, ...others] = LANGUAGES
    for (const [key, text] of catalogues[first] ?? []) {
      for (const language of others) {
        expect(placeholders(catalogues[language]?.get(key) ?? ''), `placeholders of ${key} in ${language}`).toEqual(
          placeholders(text),
        )
      }
    }
  })

  it('keep Chinese out of the English catalogue except language names', () => {
    const chinese = [...(catalogues.en ?? [])]
      .filter(([key, text]) => /\p{Script=Han}/u.test(text) && !key.startsWith('language.'))
      .map(([key]) => key)
    expect(chinese).toEqual([])
  })
})
