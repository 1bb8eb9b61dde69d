// Lets TypeScript accept the files that Bun embeds at build time.
declare module '*.sql' {
  const text: string
  export default text
}
declare module 'swagger-ui-dist/*' {
  const path: string
  export default path
}
// The admin UI's browser files and Chart.js's UMD build, embedded as files (paths).
declare module './ui/*' {
  const path: string
  export default path
}
declare module '*/chart.umd.js' {
  const path: string
  export default path
}
