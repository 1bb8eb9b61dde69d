-- Responses kept for OpenAI's Responses API (issue 17): each one its owner's, read back by id
-- (GET /v1/responses/{id}), as the history of a later response (`previous_response_id`) and as
-- its input items. The response object and its input items are JSON text (not jsonb): never
-- queried inside, and copy-data then moves them between dialects byte for byte.
-- `previous_response_id` is no foreign key: a chain reads on past a deleted response's children
-- as far as it can, and a table referring to itself would make copy-data's order a cycle.
-- Deleting the user deletes their responses.
CREATE TABLE responses (
  id                   text PRIMARY KEY,
  user_id              text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  previous_response_id text,
  response             text NOT NULL,
  input_items          text NOT NULL,
  created_at           timestamptz NOT NULL
);
CREATE INDEX responses_by_user ON responses (user_id, created_at);
