-- A conversation's messages are always read with it, so they move into the conversation
-- row: one column instead of an index descent and a table descent per search result,
-- and ten rows decoded. The column holds one frame per message in sequence order: the
-- sequence number and the record's length (4 bytes each, big-endian), then the record:
-- each field a 4-byte big-endian length (FFFFFFFF when absent) and its bytes, in the
-- order id, time (8 bytes), sender, participant, type, file id, content MAC, sealed
-- body (lethe-store's `message_log` reads and writes the same frames).
-- `message_count` says how many frames the column holds, for plans and counters.
ALTER TABLE conversations ADD COLUMN sealed_messages BLOB;
ALTER TABLE conversations ADD COLUMN message_count INTEGER NOT NULL DEFAULT 0;
UPDATE conversations SET (sealed_messages, message_count) = (
    SELECT unhex(group_concat(
        printf('%08X%08X', m.seq, 40 + length(CAST(m.message_id AS BLOB)) + length(CAST(m.sent_by AS BLOB))
            + coalesce(length(CAST(m.participant_id AS BLOB)), 0) + length(CAST(m.msg_type AS BLOB))
            + coalesce(length(CAST(m.file_id AS BLOB)), 0) + length(m.content_mac) + length(m.sealed_body))
        || printf('%08X', length(CAST(m.message_id AS BLOB))) || hex(m.message_id)
        || printf('00000008%016X', m.time)
        || printf('%08X', length(CAST(m.sent_by AS BLOB))) || hex(m.sent_by)
        || CASE WHEN m.participant_id IS NULL THEN 'FFFFFFFF'
           ELSE printf('%08X', length(CAST(m.participant_id AS BLOB))) || hex(m.participant_id) END
        || printf('%08X', length(CAST(m.msg_type AS BLOB))) || hex(m.msg_type)
        || CASE WHEN m.file_id IS NULL THEN 'FFFFFFFF'
           ELSE printf('%08X', length(CAST(m.file_id AS BLOB))) || hex(m.file_id) END
        || printf('%08X', length(m.content_mac)) || hex(m.content_mac)
        || printf('%08X', length(m.sealed_body)) || hex(m.sealed_body),
        '' ORDER BY m.seq)), COUNT(*)
    FROM messages m
    WHERE m.account_id = conversations.account_id AND m.conversation_id = conversations.conversation_id
)
WHERE EXISTS (
    SELECT 1 FROM messages m
    WHERE m.account_id = conversations.account_id AND m.conversation_id = conversations.conversation_id
);
DROP TABLE messages;
