-- Conversations kept by the server (issue 15): one user's chat and its messages in order. Deleting
-- the user deletes their conversations, and a conversation its messages. Content parts and tool
-- calls are jsonb; `content` is the message's text, what search reads (lower(content) LIKE,
-- scoped by the indexes to one user's conversations).
CREATE TABLE conversations (
  id         text PRIMARY KEY,
  user_id    text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  title      text NOT NULL DEFAULT '',
  model      text,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  pinned     boolean NOT NULL DEFAULT false,
  archived   boolean NOT NULL DEFAULT false
);
CREATE INDEX conversations_by_user_updated ON conversations (user_id, updated_at, id);

CREATE TABLE conversation_messages (
  id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  conversation_id   text NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
  role              text NOT NULL,
  content           text NOT NULL DEFAULT '',
  parts             jsonb,
  tool_calls        jsonb,
  tool_call_id      text,
  reasoning         text,
  prompt_tokens     integer,
  completion_tokens integer,
  completion_id     text,
  finish_reason     text,
  state             text NOT NULL DEFAULT 'complete' CHECK (state IN ('complete', 'cancelled', 'failed')),
  created_at        timestamptz NOT NULL
);
CREATE INDEX conversation_messages_in_order ON conversation_messages (conversation_id, id);

-- Search reads message text by substring (`lower(content) LIKE '%…%'`): a trigram index finds the
-- few messages holding a rare text without reading all of a user's messages (111 ms at 100k
-- messages without it; bench/conversations.ts). pg_trgm ships with PostgreSQL (contrib) and is a
-- trusted extension: the database's owner may create it.
CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA public;
CREATE INDEX conversation_messages_text ON conversation_messages USING gin (lower(content) public.gin_trgm_ops);
