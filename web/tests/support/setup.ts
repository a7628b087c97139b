// Runs before every test file (vite.config.ts, test.setupFiles).
import { afterEach } from 'vitest'
import { settleRouters } from './routers'

afterEach(settleRouters)
