import { createPinia, setActivePinia } from 'pinia'
import { beforeEach, describe, expect, it } from 'vitest'
import { LANGUAGE_STORAGE_KEY, i18n } from '@/locales'
import { useLocaleStore } from '@/stores/locale'

beforeEach(() => {
  localStorage.clear()
  setActivePinia(createPinia())
})

describe('locale store', () => {
  it('starts in Chinese', () => {
    const locale = useLocaleStore()

    expect(locale.language).toBe('zh-CN')
    expect(i18n.global.locale.value).toBe('zh-CN')
    expect(locale.elementLocale.name).toBe('zh-cn')
  })

  it('switches i18n, Element Plus and <html lang>, and remembers the choice', () => {
    const locale = useLocaleStore()

    locale.setLanguage('en')

    expect(i18n.global.locale.value).toBe('en')
    expect(locale.elementLocale.name).toBe('en')
    expect(document.documentElement.lang).toBe('en')
    expect(localStorage.getItem(LANGUAGE_STORAGE_KEY)).toBe('en')
  })

  it('restores the remembered language', () => {
    localStorage.setItem(LANGUAGE_STORAGE_KEY, 'en')

    expect(useLocaleStore().language).toBe('en')
  })

  it('ignores an unknown remembered language', () => {
    localStorage.setItem(LANGUAGE_STORAGE_KEY, 'fr')

    expect(useLocaleStore().language).toBe('zh-CN')
  })
})
