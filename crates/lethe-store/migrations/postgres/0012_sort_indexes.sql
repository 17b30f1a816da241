-- Searches order by (start_time, conversation_id). With conversation_id missing from the
-- indexes, every matching row (sealed messages included) went through a sorter to break
-- ties, though ties are rare: the indexes now end in the whole ordering.
DROP INDEX conversations_start;
CREATE INDEX conversations_start ON conversations (account_id, start_time, conversation_id);
DROP INDEX conversations_consumer;
CREATE INDEX conversations_consumer ON conversations (account_id, consumer_id, start_time, conversation_id);
DROP INDEX conversations_cid;
CREATE INDEX conversations_cid ON conversations (account_id, cid_hash, start_time, conversation_id);
