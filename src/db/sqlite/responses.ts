// The Responses API's store on SQLite: the response and its input items as JSON text, times in ms.
import type { Database } from 'bun:sqlite'
import type { ResponseStore, StoredResponse } from '../stores/responses'

type ResponseRow = {
  id: string
  user_id: string
  previous_response_id: string | null
  response: string
  input_items: string
  created_at: number
}

const responseOf = (row: ResponseRow): StoredResponse => ({
  id: row.id,
  userId: row.user_id,
  previousResponseId: row.previous_response_id,
  response: JSON.parse(row.response),
  inputItems: JSON.parse(row.input_items),
  createdAt: row.created_at,
})

export function sqliteResponses(db: Database): ResponseStore {
  const upsert = db.query(
    `INSERT INTO responses (id, user_id, previous_response_id, response, input_items, created_at) VALUES (?, ?, ?, ?, ?, ?)
     ON CONFLICT (id) DO UPDATE SET response = excluded.response WHERE responses.user_id = excluded.user_id`,
  )
  const select = db.query<ResponseRow, [string, string]>(
    'SELECT id, user_id, previous_response_id, response, input_items, created_at FROM responses WHERE id = ? AND user_id = ?',
  )
  const remove = db.query('DELETE FROM responses WHERE id = ? AND user_id = ?')
  return {
    async save(r) {
      upsert.run(r.id, r.userId, r.previousResponseId, JSON.stringify(r.response), JSON.stringify(r.inputItems), r.createdAt)
    },
    async get(userId, id) {
      const row = select.get(id, userId)
      return row ? responseOf(row) : undefined
    },
    async delete(userId, id) {
      return remove.run(id, userId).changes === 1
    },
  }
}
