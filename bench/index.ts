// `bun run bench`: runs each benchmark in its own process, one after another, so that one
// bench's servers and timers cannot disturb the next. A new bench is a file and a line here.
const benches = ['gateway.ts', 'protection.ts', 'hostile.ts', 'dashboard.ts', 'startup.ts']

let failed = false
for (const bench of benches) {
  const child = Bun.spawn(['bun', `${import.meta.dir}/${bench}`], { stdio: ['inherit', 'inherit', 'inherit'] })
  if ((await child.exited) !== 0) {
    console.error(`bench/${bench} failed`)
    failed = true
  }
}
process.exit(failed ? 1 : 0)
