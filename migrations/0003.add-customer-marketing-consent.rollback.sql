ALTER TABLE customers DROP COLUMN marketing_consent;
