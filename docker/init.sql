-- Runs once when the compose Postgres volume is created: the table of the example migration,
-- with the new column already added (step 1 of the workflow in docs/operations.md).
CREATE TABLE users (
  id     bigserial PRIMARY KEY,
  email  text NOT NULL,
  status text,
  state  text
);
INSERT INTO users (email, status) VALUES ('a@example.com', 'active'), ('b@example.com', 'inactive');
