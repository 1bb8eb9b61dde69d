-- Sign-in blocks lifted by an operator (`ai-studio unblock`). The blocks live in the server's
-- memory, so the command leaves its request here and the running server applies it.
CREATE TABLE sign_in_unblocks (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  email TEXT,
  address TEXT,
  created_at INTEGER NOT NULL
);
