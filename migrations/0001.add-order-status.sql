-- Orders get a status, so that the worker can mark them paid and confirmed.
ALTER TABLE orders ADD COLUMN status TEXT NOT NULL DEFAULT 'placed';
