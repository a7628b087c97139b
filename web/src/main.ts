import 'element-plus/dist/index.css'
import './styles.css'
import { createPinia } from 'pinia'
import { createApp } from 'vue'
import { configureClient } from '@/api/http'
import { i18n } from '@/locales'
import { createAppRouter } from '@/router'
import { useEvents } from '@/stores/events'
import { useLocaleStore } from '@/stores/locale'
import { useSessionStore } from '@/stores/session'
import { showError, showWarning } from '@/utils/notify'
import App from './App.vue'

const app = createApp(App)
const pinia = createPinia()
const router = createAppRouter()
app.use(pinia).use(i18n).use(router)

const locale = useLocaleStore()
const session = useSessionStore()
const events = useEvents()

configureClient({
  language: () => locale.language,
  csrfToken: () => session.csrfToken,
  onNotLoggedIn: () => {
    const wasLoggedIn = session.isLoggedIn
    session.clear()
    events.stop()
    const current = router.currentRoute.value
    if (current.meta.public) return
    if (wasLoggedIn) showWarning(i18n.global.t('session.expired'))
    void router.replace({ name: 'login', query: { redirect: current.fullPath } })
  },
  onCsrfRejected: () => {
    // The session was renewed elsewhere (another tab logged in again): fetch its token for the next write.
    session.refresh().catch(showError)
  },
})

events.onStreamClosed(() => {
  // A 401 here reaches onNotLoggedIn above; other failures leave the reconnection scheduled.
  session.refresh().catch(() => undefined)
})

app.mount('#app')
