-- The reference server's state (state-postgres.js): REST upload sessions and their acknowledged parts,
-- captures with their records (metadata, video facts, thumbnail state), share tokens, Idempotency-Keys
-- and tus upload ownership. The bytes are not here: they are in the data directory (or the bucket).

CREATE TABLE upload_sessions (
  id            text PRIMARY KEY,               -- 32 hex, made by the server
  owner         text NOT NULL,
  state         text NOT NULL CHECK (state IN ('open', 'finalizing', 'finalized')),
  record        jsonb NOT NULL,                 -- the session as the routes see it (init fields, layout, captureId)
  parts_version bigint NOT NULL DEFAULT 0,      -- +1 per part recorded: a server's cached assembly is stale when it changed
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX upload_sessions_owner ON upload_sessions (owner) WHERE state <> 'finalized';

-- One row per acknowledged chunk: the acknowledgement's commit point.
CREATE TABLE upload_parts (
  session_id text NOT NULL REFERENCES upload_sessions (id) ON DELETE CASCADE,
  idx        integer NOT NULL CHECK (idx >= 0),
  sha256     text NOT NULL,
  size       bigint NOT NULL CHECK (size > 0),
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (session_id, idx)
);

CREATE TABLE captures (
  id         text PRIMARY KEY,
  owner      text NOT NULL,
  session    text,
  type       text NOT NULL CHECK (type IN ('screenshot', 'video')),
  created_at timestamptz NOT NULL,
  record     jsonb NOT NULL
);
CREATE INDEX captures_owner ON captures (owner, created_at, id);

CREATE TABLE share_tokens (
  token      text PRIMARY KEY,                  -- 128 random bits, base64url
  capture_id text NOT NULL REFERENCES captures (id) ON DELETE CASCADE
);
CREATE INDEX share_tokens_capture ON share_tokens (capture_id);

-- Written before its capture exists (a crash between the two must not let a retry make a second one),
-- so capture_id has no foreign key.
CREATE TABLE idempotency_keys (
  owner      text NOT NULL,
  key_hash   text NOT NULL,                     -- SHA-256 of the key, hex
  capture_id text NOT NULL,
  kind       text NOT NULL,
  sha256     text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (owner, key_hash)
);

CREATE TABLE tus_uploads (
  id         text PRIMARY KEY,
  owner      text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
