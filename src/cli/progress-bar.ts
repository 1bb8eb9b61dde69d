// A one-line progress bar redrawn in place on stderr, at most ten times a second, for commands
// that take a while (populate-dashboard-data, copy-data). Off a terminal it draws nothing.

/** Reports `done` of `total` units; the bar ends its line when they are equal. */
export type Progress = (done: number, total: number) => void

export function progressBar(unit: string): Progress {
  if (!process.stderr.isTTY) return () => {}
  const started = performance.now()
  let drawn = 0
  return (done, total) => {
    const now = performance.now()
    if (total === 0 || (done < total && now - drawn < 100)) return
    drawn = now
    const width = 30
    const filled = Math.round((done / total) * width)
    const seconds = ((now - started) / 1000).toFixed(1)
    process.stderr.write(
      `\r[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${Math.floor((done / total) * 100)}% ` +
        `${done.toLocaleString('en')}/${total.toLocaleString('en')} ${unit} ${seconds}s${done === total ? '\n' : ''}`,
    )
  }
}
