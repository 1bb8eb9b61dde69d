// Headless Debian Chromium with every request that would leave 127.0.0.1 refused and recorded:
// the pages under test must work offline.
import { existsSync } from 'node:fs'
import { chromium, type BrowserContext, type Page } from 'playwright-core'

export const CHROMIUM = '/usr/bin/chromium'
export const hasChromium = existsSync(CHROMIUM)

export async function offlineBrowser(profileDir: string, options: { viewport?: { width: number; height: number } } = {}) {
  const external: string[] = []
  const pageErrors: string[] = []
  const context: BrowserContext = await chromium.launchPersistentContext(profileDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: options.viewport ?? { width: 1280, height: 900 },
    reducedMotion: 'reduce',
    permissions: ['clipboard-read', 'clipboard-write'],
  })
  await context.route('**/*', (route) => {
    const url = route.request().url()
    if (new URL(url).hostname === '127.0.0.1') return route.continue()
    external.push(url)
    return route.abort('blockedbyclient')
  })
  // Fail a wait well before the test's own timeout, so a failure names what it waited for.
  context.setDefaultTimeout(15_000)
  context.on('weberror', (error) => pageErrors.push(error.error().message))
  const page = context.pages()[0] ?? (await context.newPage())
  return { context, page, external, pageErrors }
}

/**
 * Waits until at least `count` canvases match `selector` and every one has painted pixels, then
 * returns each canvas's share of painted pixels. Charts are redrawn after a range change, so a
 * single look can land between the old charts going and the new ones being drawn.
 */
export async function paintedShares(page: Page, selector: string, count = 1) {
  const shares = () =>
    page.$$eval(selector, (canvases) =>
      (canvases as HTMLCanvasElement[]).map((canvas) => {
        const { data } = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height)
        let painted = 0
        for (let i = 3; i < data.length; i += 4) if (data[i]) painted++
        return painted / (canvas.width * canvas.height)
      }),
    )
  const deadline = Date.now() + 10_000
  for (;;) {
    const found = await shares()
    if ((found.length >= count && found.every((share) => share > 0)) || Date.now() > deadline) return found
    await Bun.sleep(100)
  }
}

/** Signs into the admin UI at `baseUrl` through its form, as a person does. */
export async function signInWithForm(page: Page, baseUrl: string, account: { email: string; password: string }) {
  await page.goto(`${baseUrl}/admin`)
  await page.getByLabel('Email').fill(account.email)
  await page.getByLabel('Password').fill(account.password)
  await page.getByRole('button', { name: 'Sign in' }).click()
}

/**
 * Signs the page into the admin UI at `baseUrl` with an access token, as the UI keeps one after a
 * sign-in (the refresh token is never used while the access token is valid), without the form.
 */
export async function signInWithToken(page: Page, baseUrl: string, accessToken: string) {
  await page.goto(`${baseUrl}/admin/`)
  await page.evaluate(
    ([access]) => {
      localStorage.setItem('accessToken', access!)
      localStorage.setItem('refreshToken', 'unused')
    },
    [accessToken],
  )
}
