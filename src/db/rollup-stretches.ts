// Which rollup grain covers which part of a dashboard window: a dialect-independent rule, so that
// every store implementation reads the same cells.
import { ceilTo, DAY, floorTo, HOUR } from '../http/dates'
import type { Slice } from './stores/dashboard'

export type Stretch = [grain: number, from: number, to: number]

/**
 * The stretches of one rollup grain that cover [from, to): when buckets are days, the whole UTC
 * days from the daily rollup and the hours around them from the hourly one; else all hours.
 */
export function stretches({ from, to, step }: Slice): Stretch[] {
  const firstDay = ceilTo(from, DAY)
  const lastDay = floorTo(to, DAY)
  if (step < DAY || firstDay >= lastDay) return [[HOUR, from, to]]
  const all: Stretch[] = [
    [HOUR, from, firstDay],
    [DAY, firstDay, lastDay],
    [HOUR, lastDay, to],
  ]
  return all.filter(([, start, end]) => start < end)
}
