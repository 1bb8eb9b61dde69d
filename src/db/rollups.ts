// The rollup tables' time grains, and the folds of ratings and threats into the cells of
// rollup_feedback and rollup_threats, shared by the store implementations (src/db/<dialect>/):
// each store adds the rows it writes (sign 1) or takes out (-1), then upserts the cells as
// increments in the same transaction, so every dialect keeps the rollups the same way. The
// request rows' fold is in ./request-rollup.ts. Each fold hands out its cells with `cells()`, in
// no particular order: a dialect with several writers sorts them itself (postgres/bulk.ts).
import { DAY, floorTo, HOUR } from '../http/dates'

export const GRAINS = [HOUR, DAY]

/** What rollup_feedback counts of a rating: who gave it, when, and which. */
export type Rated = { userId: string; rating: number; createdAt: number }

export type RatingCell = { grain: number; userId: string; bucket: number; rating: number; ratings: number }

/** Ratings per (grain, user, bucket, rating), keyed by the time the rating was given. */
export class FeedbackRollup {
  private readonly byKey = new Map<string, RatingCell>()

  add(row: Rated, sign: 1 | -1 = 1) {
    for (const grain of GRAINS) {
      const bucket = floorTo(row.createdAt, grain)
      for (const userId of ['', row.userId]) {
        const key = `${grain}\0${userId}\0${bucket}\0${row.rating}`
        const cell = this.byKey.get(key)
        if (cell) cell.ratings += sign
        else this.byKey.set(key, { grain, userId, bucket, rating: row.rating, ratings: sign })
      }
    }
  }

  cells(): RatingCell[] {
    return [...this.byKey.values()]
  }
}

/** What rollup_threats counts of a threat: the time it was raised, its kind and its state. */
export type CountedThreat = { type: string; severity: string; resolved: boolean; createdAt: number }

export type ThreatCell = { grain: number; bucket: number; type: string; severity: string; resolved: boolean; threats: number }

/** Threats per (grain, bucket, type, severity, resolved), keyed by the time the threat was raised. */
export class ThreatRollup {
  private readonly byKey = new Map<string, ThreatCell>()

  add(threat: CountedThreat, sign: 1 | -1 = 1) {
    for (const grain of GRAINS) {
      const bucket = floorTo(threat.createdAt, grain)
      const key = `${grain}\0${bucket}\0${threat.type}\0${threat.severity}\0${threat.resolved}`
      const cell = this.byKey.get(key)
      if (cell) cell.threats += sign
      else this.byKey.set(key, { grain, bucket, type: threat.type, severity: threat.severity, resolved: threat.resolved, threats: sign })
    }
  }

  /** A threat resolved: its count moves from the open cells to the resolved ones. */
  resolve(threat: Omit<CountedThreat, 'resolved'>) {
    this.add({ ...threat, resolved: false }, -1)
    this.add({ ...threat, resolved: true })
  }

  cells(): ThreatCell[] {
    return [...this.byKey.values()]
  }
}
