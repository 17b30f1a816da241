-- A conversation's data key is always read with it, so the wrapped key moves into the
-- conversation row: one descent per search result instead of two more (the data_keys
-- primary-key index, then its table). Deleting the row destroys the key with the data
-- it seals; mask mode replaces it in place. Consumers, requests and apps keep theirs in
-- data_keys. Both columns are set on every row lethe writes; NULL reads as corrupt.
ALTER TABLE conversations ADD COLUMN kek_id TEXT;
ALTER TABLE conversations ADD COLUMN wrapped_key BLOB;
UPDATE conversations SET (kek_id, wrapped_key) = (
    SELECT k.kek_id, k.wrapped FROM data_keys k
    WHERE k.account_id = conversations.account_id AND k.owner_kind = 'conversation'
      AND k.owner_id = conversations.conversation_id
);
DELETE FROM data_keys WHERE owner_kind = 'conversation';
