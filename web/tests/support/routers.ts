// Mounted routers whose first navigation may still be loading a lazy route component. tests/support/setup.ts
// waits for them after each test, because an import still pending when the test file ends fails the whole run.
// This module imports no application code: the setup file loads it before the test files register their mocks.
import type { Router } from 'vue-router'

const pending = new Set<Router>()

export function watchFirstNavigation(router: Router): void {
  pending.add(router)
}

/** Wait until every watched router has finished its first navigation. */
export async function settleRouters(): Promise<void> {
  const routers = [...pending]
  pending.clear()
  await Promise.allSettled(routers.map((router) => router.isReady()))
}
