-- Marketing email only to customers who said yes (GDPR article 6(1)(a)).
ALTER TABLE customers ADD COLUMN marketing_consent BOOLEAN NOT NULL DEFAULT FALSE;
