// The store of OpenAI Responses API responses (src/responses/): each kept with the input items it
// answered, so that it can be read back (GET /v1/responses/{id}), listed by its input items, and
// chained (`previous_response_id`). Every read and delete names the owner, so another user's
// response is simply not found. Times in ms.

/** One stored response. `response` is the Responses API `response` object; `inputItems` its input items, ids included. */
export type StoredResponse = {
  id: string
  userId: string
  previousResponseId: string | null
  response: Record<string, unknown>
  inputItems: Record<string, unknown>[]
  createdAt: number
}

export interface ResponseStore {
  /** Keeps a response; one kept again under the same id (a stream that failed after it was kept) replaces it. */
  save(response: StoredResponse): Promise<void>
  /** The user's response, or undefined when there is none with this id (or it is another user's). */
  get(userId: string, id: string): Promise<StoredResponse | undefined>
  /** Deletes one of the user's responses; false when the user has none with this id. */
  delete(userId: string, id: string): Promise<boolean>
}
