-- Uploaded images. The row is written after its objects are stored, so no row ever points at a
-- missing object; objects no row references are removed by `beebeta media gc`.
CREATE TABLE media (
    id          VARCHAR(32)  NOT NULL PRIMARY KEY,  -- the upload id (random, 32 hex digits)
    owner_id    BIGINT       NULL,
    width       INT          NOT NULL,              -- of the largest rendition
    height      INT          NOT NULL,
    renditions  TEXT         NOT NULL,              -- JSON: [{"w","h","key","type","bytes"}], widest first
    bytes       BIGINT       NOT NULL,              -- total size of the renditions
    created_at  DATETIME(6)  NOT NULL,
    KEY media_owner (owner_id, created_at),
    KEY media_created (created_at),
    CONSTRAINT media_owner_fk FOREIGN KEY (owner_id) REFERENCES users (id) ON DELETE SET NULL
) ENGINE=InnoDB DEFAULT CHARSET=ascii COLLATE=ascii_bin;

-- Deleting a media row (gc) clears the reference of the deleted question that held it.
ALTER TABLE questions
    ADD COLUMN image_id VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NULL,
    ADD KEY questions_image (image_id),
    ADD CONSTRAINT questions_image_fk FOREIGN KEY (image_id) REFERENCES media (id) ON DELETE SET NULL;
ALTER TABLE choices
    ADD COLUMN image_id VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NULL,
    ADD KEY choices_image (image_id),
    ADD CONSTRAINT choices_image_fk FOREIGN KEY (image_id) REFERENCES media (id) ON DELETE SET NULL;
