// The rollup tables' time grains, and the fold of ratings into rollup_feedback's cells, shared
// by the store implementations (src/db/<dialect>/). The request rows' fold is in ./request-rollup.ts.
import { DAY, floorTo, HOUR } from '../http/dates'

export const GRAINS = [HOUR, DAY]

/** Ratings per (grain, user, bucket, rating), keyed by the time the rating was given. */
export class FeedbackRollup {
  readonly cells = new Map<string, { grain: number; userId: string; bucket: number; rating: number; ratings: number }>()

  add(row: { userId: string; rating: number; createdAt: number }, sign: 1 | -1 = 1) {
    for (const grain of GRAINS) {
      const bucket = floorTo(row.createdAt, grain)
      for (const userId of ['', row.userId]) {
        const key = `${grain}\0${userId}\0${bucket}\0${row.rating}`
        const cell = this.cells.get(key)
        if (cell) cell.ratings += sign
        else this.cells.set(key, { grain, userId, bucket, rating: row.rating, ratings: sign })
      }
    }
  }
}
