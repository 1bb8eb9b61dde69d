-- Conversations kept by the server (issue 15): one user's chat and its messages in order. Deleting
-- the user deletes their conversations, and a conversation its messages. Content parts and tool
-- calls are JSON text; `content` is the message's text, what search reads (LIKE is
-- case-insensitive for ASCII on SQLite, scoped by the index to one user's conversations).
CREATE TABLE conversations (
  id         TEXT PRIMARY KEY,
  user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  title      TEXT NOT NULL DEFAULT '',
  model      TEXT,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  pinned     INTEGER NOT NULL DEFAULT 0,
  archived   INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX conversations_by_user_updated ON conversations (user_id, updated_at, id);

CREATE TABLE conversation_messages (
  id                INTEGER PRIMARY KEY AUTOINCREMENT,
  conversation_id   TEXT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
  role              TEXT NOT NULL,
  content           TEXT NOT NULL DEFAULT '',
  parts             TEXT,
  tool_calls        TEXT,
  tool_call_id      TEXT,
  reasoning         TEXT,
  prompt_tokens     INTEGER,
  completion_tokens INTEGER,
  completion_id     TEXT,
  finish_reason     TEXT,
  state             TEXT NOT NULL DEFAULT 'complete' CHECK (state IN ('complete', 'cancelled', 'failed')),
  created_at        INTEGER NOT NULL
);
CREATE INDEX conversation_messages_in_order ON conversation_messages (conversation_id, id);
