// The Responses API's store on PostgreSQL: the response and its input items as JSON text (see
// the migration, 0016), times as timestamptz.
import type { SQL } from 'bun'
import type { ResponseStore, StoredResponse } from '../stores/responses'

type ResponseRow = {
  id: string
  user_id: string
  previous_response_id: string | null
  response: string
  input_items: string
  created_at: Date
}

const responseOf = (row: ResponseRow): StoredResponse => ({
  id: row.id,
  userId: row.user_id,
  previousResponseId: row.previous_response_id,
  response: JSON.parse(row.response),
  inputItems: JSON.parse(row.input_items),
  createdAt: row.created_at.getTime(),
})

export function postgresResponses(sql: SQL): ResponseStore {
  return {
    async save(r) {
      await sql`
        INSERT INTO responses (id, user_id, previous_response_id, response, input_items, created_at)
        VALUES (${r.id}, ${r.userId}, ${r.previousResponseId}, ${JSON.stringify(r.response)}, ${JSON.stringify(r.inputItems)}, ${new Date(r.createdAt)})
        ON CONFLICT (id) DO UPDATE SET response = excluded.response WHERE responses.user_id = excluded.user_id`
    },
    async get(userId, id) {
      const [row] = await sql<ResponseRow[]>`
        SELECT id, user_id, previous_response_id, response, input_items, created_at FROM responses WHERE id = ${id} AND user_id = ${userId}`
      return row ? responseOf(row) : undefined
    },
    async delete(userId, id) {
      return (await sql`DELETE FROM responses WHERE id = ${id} AND user_id = ${userId}`).count === 1
    },
  }
}
