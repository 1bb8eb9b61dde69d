// Start-up time and idle memory of the compiled binary: exec → first healthy answer, over
// several cold starts on a fresh database each, compared with a bare Bun.serve "hello"
// process measured in the same run (the floor for any Bun server on this machine).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { freePort } from '../test/support/process'

const root = join(import.meta.dir, '..')
const RUNS = Number(process.env.BENCH_STARTUP_RUNS ?? 15)

async function timeToServe(cmd: string[], cwd: string, path: string) {
  const port = await freePort()
  const started = performance.now()
  const proc = Bun.spawn(cmd, { cwd, env: { PORT: String(port), HOST: '127.0.0.1', PATH: '/usr/bin:/bin' }, stdout: 'ignore', stderr: 'ignore' })
  for (;;) {
    try {
      const res = await fetch(`http://127.0.0.1:${port}${path}`)
      if (res.ok) break
    } catch {}
    await Bun.sleep(1)
  }
  const ms = performance.now() - started
  await Bun.sleep(300)
  const rss = Number((await Bun.file(`/proc/${proc.pid}/status`).text()).match(/VmRSS:\s+(\d+)/)?.[1] ?? 0) / 1024
  proc.kill('SIGKILL')
  await proc.exited
  return { ms, rss }
}

const pct = (values: number[], p: number) => [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor((p / 100) * values.length))]!

export async function startupBench() {
  const build = Bun.spawnSync(['bun', 'run', 'build'], { cwd: root, stdout: 'ignore', stderr: 'pipe' })
  if (build.exitCode !== 0) throw new Error(build.stderr.toString())
  const folder = mkdtempSync(join(tmpdir(), 'studio-startup-'))
  const hello = join(folder, 'hello.ts')
  writeFileSync(hello, 'Bun.serve({ port: Number(process.env.PORT), hostname: "127.0.0.1", fetch: () => new Response("ok") })\n')
  const rows: { name: string; ms: number[]; rss: number[] }[] = [
    { name: 'bare Bun.serve (bun hello.ts)', ms: [], rss: [] },
    { name: 'dist/ai-studio, fresh database', ms: [], rss: [] },
  ]
  for (let i = 0; i < RUNS; i++) {
    const base = await timeToServe([process.execPath, hello], folder, '/')
    rows[0]!.ms.push(base.ms), rows[0]!.rss.push(base.rss)
    const runDir = mkdtempSync(join(folder, 'run-'))
    const studio = await timeToServe([join(root, 'dist', 'ai-studio')], runDir, '/api/auth/health/')
    rows[1]!.ms.push(studio.ms), rows[1]!.rss.push(studio.rss)
  }
  rmSync(folder, { recursive: true, force: true })
  console.log(`\n## Start-up (${RUNS} cold starts each; exec → first 200)\n`)
  console.log('| process | p50 ms | p99 ms | idle RSS MiB | p50 vs bare |')
  console.log('| --- | ---: | ---: | ---: | ---: |')
  const baseline = pct(rows[0]!.ms, 50)
  for (const row of rows)
    console.log(
      `| ${row.name} | ${pct(row.ms, 50).toFixed(1)} | ${pct(row.ms, 99).toFixed(1)} | ${pct(row.rss, 50).toFixed(1)} | ${(pct(row.ms, 50) / baseline).toFixed(2)}× |`,
    )
  console.log(`\nBudget: the binary serves within 150 ms of exec → ${pct(rows[1]!.ms, 50) < 150 ? 'met' : 'MISSED'}`)
}

if (import.meta.main) await startupBench()
