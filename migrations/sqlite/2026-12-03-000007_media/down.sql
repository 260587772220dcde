DROP INDEX choices_image;
DROP INDEX questions_image;
ALTER TABLE choices DROP COLUMN image_id;
ALTER TABLE questions DROP COLUMN image_id;
DROP TABLE media;
