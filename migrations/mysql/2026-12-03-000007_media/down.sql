ALTER TABLE choices DROP FOREIGN KEY choices_image_fk, DROP KEY choices_image, DROP COLUMN image_id;
ALTER TABLE questions DROP FOREIGN KEY questions_image_fk, DROP KEY questions_image, DROP COLUMN image_id;
DROP TABLE media;
