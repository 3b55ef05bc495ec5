-- The bytes in the bucket (--s3-bytes): each acknowledged REST chunk is a part of the session's multipart
-- upload (its ETag, for CompleteMultipartUpload) or, under 5 MiB, an object of its own until finalize
-- (side_key); tus uploads keep their declared length and whether they finished (quota counts).
ALTER TABLE upload_parts ADD COLUMN etag text, ADD COLUMN side_key text;
ALTER TABLE tus_uploads ADD COLUMN declared bigint, ADD COLUMN finished boolean NOT NULL DEFAULT false;
