import type { Language as ElementLanguage } from 'element-plus/es/locale'
import elementEn from 'element-plus/es/locale/lang/en'
import elementZhCn from 'element-plus/es/locale/lang/zh-cn'
import { createI18n } from 'vue-i18n'
import en from './en'
import zhCN, { type MessageSchema } from './zh-CN'

export const LANGUAGES = ['zh-CN', 'en'] as const
export type AppLanguage = (typeof LANGUAGES)[number]
export const DEFAULT_LANGUAGE: AppLanguage = 'zh-CN'

// Key of the remembered language in localStorage.
export const LANGUAGE_STORAGE_KEY = 'taskdash.language'

export const messages: Record<AppLanguage, MessageSchema> = { 'zh-CN': zhCN, en }

export const elementLocales: Record<AppLanguage, ElementLanguage> = { 'zh-CN': elementZhCn, en: elementEn }

export function isAppLanguage(value: unknown): value is AppLanguage {
  return typeof value === 'string' && (LANGUAGES as readonly string[]).includes(value)
}

export function createAppI18n(language: AppLanguage = DEFAULT_LANGUAGE) {
  return createI18n<[MessageSchema], AppLanguage, false>({
    legacy: false,
    locale: language,
    fallbackLocale: DEFAULT_LANGUAGE,
    messages,
  })
}

export type AppI18n = ReturnType<typeof createAppI18n>

// The app's one instance: main.ts installs it, and code outside components (router titles, notices) imports it.
export const i18n: AppI18n = createAppI18n()
