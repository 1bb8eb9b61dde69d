// A bun:sqlite Database whose every statement reports a lock held by another process as a
// DatabaseBusyError (503 with Retry-After) instead of a bare SQLiteError (500): one place, so
// that no route, feature store or admin action has to know about locks to answer them properly.
import { Database, type Statement } from 'bun:sqlite'
import { busyAware } from '../busy'

const translated = new WeakSet<object>()

/** Makes the statement's methods throw DatabaseBusyError for a lock held elsewhere (once per statement: query() caches them). */
function busyAwareStatement<S extends Statement<any, any>>(statement: S): S {
  if (translated.has(statement)) return statement
  translated.add(statement)
  for (const method of ['run', 'get', 'all', 'values', 'raw'] as const) {
    const call = statement[method] as (...args: unknown[]) => unknown
    ;(statement as Record<string, unknown>)[method] = (...args: unknown[]) => {
      try {
        return call.apply(statement, args)
      } catch (error) {
        throw busyAware(error)
      }
    }
  }
  const iterate = statement.iterate
  statement.iterate = function* (...args: unknown[]) {
    try {
      yield* iterate.apply(statement, args as never)
    } catch (error) {
      throw busyAware(error)
    }
  } as typeof iterate
  return statement
}

const busyAwareCall =
  <F extends (...args: any[]) => any>(call: F): F =>
  ((...args: Parameters<F>) => {
    try {
      return call(...args)
    } catch (error) {
      throw busyAware(error)
    }
  }) as F

export class BusyAwareDatabase extends Database {
  override query(sql: string): any {
    return busyAwareStatement(super.query(sql))
  }

  override prepare(sql: string, params?: any): any {
    return busyAwareStatement(super.prepare(sql, params))
  }

  override run(sql: string, ...bindings: any[]): any {
    return busyAwareCall(() => super.run(sql, ...bindings))()
  }

  override exec(sql: string, ...bindings: any[]): any {
    return busyAwareCall(() => super.exec(sql, ...bindings))()
  }

  /** BEGIN IMMEDIATE (and COMMIT) meet the lock outside any statement of ours. */
  override transaction(fn: (...args: any[]) => any): any {
    const transaction = super.transaction(fn)
    return Object.assign(busyAwareCall(transaction), {
      deferred: busyAwareCall(transaction.deferred),
      immediate: busyAwareCall(transaction.immediate),
      exclusive: busyAwareCall(transaction.exclusive),
    })
  }
}
