import { defineStore } from 'pinia'
import { computed, ref } from 'vue'
import {
  DEFAULT_LANGUAGE,
  LANGUAGE_STORAGE_KEY,
  elementLocales,
  i18n,
  isAppLanguage,
  type AppLanguage,
} from '@/locales'

function readStoredLanguage(): AppLanguage {
  try {
    const stored = globalThis.localStorage?.getItem(LANGUAGE_STORAGE_KEY)
    return isAppLanguage(stored) ? stored : DEFAULT_LANGUAGE
  } catch {
    // Storage can be disabled (private mode, blocked cookies); the default language still works.
    return DEFAULT_LANGUAGE
  }
}

/** The UI language: vue-i18n's locale, Element Plus's locale, <html lang> and the API's Accept-Language. */
export const useLocaleStore = defineStore('locale', () => {
  const language = ref<AppLanguage>(readStoredLanguage())
  const elementLocale = computed(() => elementLocales[language.value])

  function apply(): void {
    i18n.global.locale.value = language.value
    document.documentElement.lang = language.value
  }

  function setLanguage(next: AppLanguage): void {
    language.value = next
    apply()
    try {
      localStorage.setItem(LANGUAGE_STORAGE_KEY, next)
    } catch {
      // Not remembered across visits when storage is unavailable; the switch still applies now.
    }
  }

  apply()
  return { language, elementLocale, setLanguage }
})
