-- Order history pages look orders up by customer.
CREATE INDEX orders_customer_idx ON orders (customer_id);
