-- Server-side recordings in progress (live-recording.js): one row per user and session label, from
-- POST .../start until the video became a capture (or failed). `record` holds the state ('started',
-- 'stopping', 'stopped', 'failed'), the settings, which server's socket writes the video (holder) and,
-- once stopped, the capture's id. Any server answers start and stop; the holder sees a stop here.
CREATE TABLE live_recordings (
  owner      text NOT NULL,
  session    text NOT NULL,
  record     jsonb NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (owner, session)
);
