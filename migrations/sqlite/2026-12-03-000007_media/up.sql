-- Uploaded images. The row is written after its objects are stored, so no row ever points at a
-- missing object; objects no row references are removed by `beebeta media gc`.
CREATE TABLE media (
    id          TEXT    PRIMARY KEY,            -- the upload id (random, 32 hex digits)
    owner_id    INTEGER NULL REFERENCES users (id) ON DELETE SET NULL,
    width       INTEGER NOT NULL,               -- of the largest rendition
    height      INTEGER NOT NULL,
    renditions  TEXT    NOT NULL,               -- JSON: [{"w","h","key","type","bytes"}], widest first
    bytes       INTEGER NOT NULL,               -- total size of the renditions
    created_at  TIMESTAMP NOT NULL
);
CREATE INDEX media_owner ON media (owner_id, created_at);
CREATE INDEX media_created ON media (created_at);

-- Deleting a media row (gc) clears the reference of the deleted question that held it.
ALTER TABLE questions ADD COLUMN image_id TEXT NULL REFERENCES media (id) ON DELETE SET NULL;
ALTER TABLE choices ADD COLUMN image_id TEXT NULL REFERENCES media (id) ON DELETE SET NULL;
CREATE INDEX questions_image ON questions (image_id);
CREATE INDEX choices_image ON choices (image_id);
