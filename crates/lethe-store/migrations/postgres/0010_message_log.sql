-- A conversation's messages are always read with it, so they move into the conversation
-- row: one column instead of an index probe and ten rows per search result. One frame
-- per message in sequence order: the sequence number and the record's length (4 bytes
-- each, big-endian), then the record: each field a 4-byte big-endian length (FFFFFFFF
-- when absent) and its bytes, in the order id, time (8 bytes), sender, participant,
-- type, file id, content MAC, sealed body (lethe-store's `message_log` reads and writes
-- the same frames). `message_count` says how many frames the column holds. The dropped
-- table's bytes stay in dead space until vacuumed: ciphertext under the conversations'
-- keys, which erasure destroys.
ALTER TABLE conversations ADD COLUMN sealed_messages BYTEA;
ALTER TABLE conversations ADD COLUMN message_count BIGINT NOT NULL DEFAULT 0;
UPDATE conversations c SET sealed_messages = m.frames, message_count = m.n
FROM (
    SELECT account_id, conversation_id, COUNT(*) AS n,
           string_agg(
               int4send(seq::int4)
               || int4send((40 + octet_length(message_id) + octet_length(sent_by)
                   + coalesce(octet_length(participant_id), 0) + octet_length(msg_type)
                   + coalesce(octet_length(file_id), 0) + length(content_mac) + length(sealed_body))::int4)
               || int4send(octet_length(message_id)) || convert_to(message_id, 'UTF8')
               || int4send(8) || int8send(time)
               || int4send(octet_length(sent_by)) || convert_to(sent_by, 'UTF8')
               || CASE WHEN participant_id IS NULL THEN '\xffffffff'::bytea
                  ELSE int4send(octet_length(participant_id)) || convert_to(participant_id, 'UTF8') END
               || int4send(octet_length(msg_type)) || convert_to(msg_type, 'UTF8')
               || CASE WHEN file_id IS NULL THEN '\xffffffff'::bytea
                  ELSE int4send(octet_length(file_id)) || convert_to(file_id, 'UTF8') END
               || int4send(length(content_mac)) || content_mac
               || int4send(length(sealed_body)) || sealed_body,
               ''::bytea ORDER BY seq) AS frames
    FROM messages
    GROUP BY account_id, conversation_id
) m
WHERE m.account_id = c.account_id AND m.conversation_id = c.conversation_id;
DROP TABLE messages;
