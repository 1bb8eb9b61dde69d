// Lets TypeScript accept the GeoIP country tables that Bun embeds with `{ type: 'file' }`.
declare module 'geoip-country/data/*' {
  const path: string
  export default path
}
