//! A conversation's messages in one column of its row, read with it: one frame of
//! [`sealed_list`](crate::sealed_list) per message, its position the message's sequence
//! number. A frame holds the message's fields, each a 4-byte big-endian length
//! (`FFFFFFFF` for an absent one) then its bytes: id, time (8 bytes, big-endian), sender,
//! participant, type, file id, content MAC and the sealed body. Migration 0010 builds
//! the same frames in SQL from the message rows it folds in.

use crate::error::{StoreError, StoreResult};
use crate::records::{ConversationRecord, MessageRecord, MessageWrite};
use crate::sealed_list;

const ABSENT: u32 = u32::MAX;

/// The file id's place among a frame's fields (id, time, sender, participant, type come
/// first).
const FILE_ID_FIELD: usize = 5;

/// One message as the column holds it, borrowed from the column's bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoggedMessage<'a> {
    pub seq: i64,
    pub message_id: &'a str,
    pub time: i64,
    pub sent_by: &'a str,
    pub participant_id: Option<&'a str>,
    pub msg_type: &'a str,
    pub file_id: Option<&'a str>,
    pub content_mac: &'a [u8],
    pub sealed_body: &'a [u8],
}

/// The column for `messages`, numbered from 0 in the order given; `None` for none.
pub fn pack(messages: &[MessageWrite]) -> Option<Vec<u8>> {
    let mut log = Vec::new();
    for (seq, m) in messages.iter().enumerate() {
        append(&mut log, seq as u32, m);
    }
    (!log.is_empty()).then_some(log)
}

/// Appends `m` to a column as message number `seq`.
pub fn append(log: &mut Vec<u8>, seq: u32, m: &MessageWrite) {
    let mut record = Vec::with_capacity(64 + m.sealed_body.len());
    field(&mut record, Some(m.message_id.as_bytes()));
    field(&mut record, Some(&m.time.to_be_bytes()));
    field(&mut record, Some(m.sent_by.as_bytes()));
    field(&mut record, m.participant_id.as_deref().map(str::as_bytes));
    field(&mut record, Some(m.msg_type.as_bytes()));
    field(&mut record, m.file_id.as_deref().map(str::as_bytes));
    field(&mut record, Some(&m.content_mac));
    field(&mut record, Some(&m.sealed_body));
    log.extend_from_slice(&sealed_list::pack([(seq, record.as_slice())]));
}

fn field(out: &mut Vec<u8>, value: Option<&[u8]>) {
    match value {
        Some(bytes) => {
            let len = u32::try_from(bytes.len()).expect("a message field is far below 4 GiB");
            out.extend_from_slice(&len.to_be_bytes());
            out.extend_from_slice(bytes);
        }
        None => out.extend_from_slice(&ABSENT.to_be_bytes()),
    }
}

/// The messages of a column in sequence order; `None` when the bytes are not whole
/// messages.
pub fn unpack(bytes: &[u8]) -> Option<Vec<LoggedMessage<'_>>> {
    let frames = sealed_list::frames(bytes);
    let mut messages = Vec::with_capacity(frames.clone().count());
    for frame in frames {
        let (seq, record) = frame?;
        messages.push(message(i64::from(seq), record)?);
    }
    Some(messages)
}

fn message(seq: i64, mut record: &[u8]) -> Option<LoggedMessage<'_>> {
    let message_id = text(take(&mut record)?)?;
    let time = i64::from_be_bytes(take(&mut record)??.try_into().ok()?);
    let sent_by = text(take(&mut record)?)?;
    let participant_id = optional_text(take(&mut record)?)?;
    let msg_type = text(take(&mut record)?)?;
    let file_id = optional_text(take(&mut record)?)?;
    let content_mac = take(&mut record)??;
    let sealed_body = take(&mut record)??;
    record.is_empty().then_some(LoggedMessage {
        seq,
        message_id,
        time,
        sent_by,
        participant_id,
        msg_type,
        file_id,
        content_mac,
        sealed_body,
    })
}

/// The next field: `Some(None)` for an absent one, `None` when the bytes run out.
fn take<'a>(record: &mut &'a [u8]) -> Option<Option<&'a [u8]>> {
    let (len, rest) = record.split_at_checked(4)?;
    let len = u32::from_be_bytes(len.try_into().ok()?);
    if len == ABSENT {
        *record = rest;
        return Some(None);
    }
    let (value, rest) = rest.split_at_checked(len as usize)?;
    *record = rest;
    Some(Some(value))
}

fn text(value: Option<&[u8]>) -> Option<&str> {
    std::str::from_utf8(value?).ok()
}

/// An optional text field: `Some(None)` when absent, `None` when not UTF-8.
fn optional_text(value: Option<&[u8]>) -> Option<Option<&str>> {
    match value {
        None => Some(None),
        Some(bytes) => std::str::from_utf8(bytes).ok().map(Some),
    }
}

/// The messages of `(conversation id, column)` rows a query returned, each
/// conversation's in sequence order.
pub(crate) fn from_columns(logs: &[(String, Vec<u8>)]) -> StoreResult<Vec<MessageRecord>> {
    let mut out = Vec::new();
    for (conversation_id, log) in logs {
        let messages = unpack(log).ok_or_else(corrupt)?;
        out.extend(messages.into_iter().map(|m| MessageRecord {
            conversation_id: conversation_id.clone(),
            message_id: m.message_id.to_owned(),
            seq: m.seq,
            time: m.time,
            sent_by: m.sent_by.to_owned(),
            participant_id: m.participant_id.map(str::to_owned),
            msg_type: m.msg_type.to_owned(),
            file_id: m.file_id.map(str::to_owned),
            sealed_body: m.sealed_body.to_vec(),
        }));
    }
    Ok(out)
}

/// A messages column that does not parse: lethe wrote it, so this is damage, not input.
pub(crate) fn corrupt() -> StoreError {
    StoreError::Database("a conversation's stored messages are not whole frames".into())
}

/// The hosted files the messages of these columns reference, each once.
pub(crate) fn referenced_files<'a>(logs: impl IntoIterator<Item = &'a [u8]>) -> StoreResult<Vec<String>> {
    let mut ids = Vec::new();
    for log in logs {
        for frame in sealed_list::frames(log) {
            let (_, record) = frame.ok_or_else(corrupt)?;
            if let Some(file) = file_id(record).ok_or_else(corrupt)? {
                ids.push(file.to_owned());
            }
        }
    }
    ids.sort();
    ids.dedup();
    Ok(ids)
}

/// A message's file id, read past the fields before it without checking them: a
/// search asks this of every message it returns, and opening the message checks all.
fn file_id(mut record: &[u8]) -> Option<Option<&str>> {
    for _ in 0..FILE_ID_FIELD {
        take(&mut record)?;
    }
    optional_text(take(&mut record)?)
}

/// Drops the columns of a search page that does not want its messages.
pub(crate) fn drop_columns(rows: &mut [ConversationRecord]) {
    for r in rows {
        r.sealed_messages = None;
    }
}

/// The columns of a search page's rows, for [`referenced_files`].
pub(crate) fn row_columns(rows: &[ConversationRecord]) -> impl Iterator<Item = &[u8]> {
    rows.iter().filter_map(|r| r.sealed_messages.as_deref())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(id: &str, file: Option<&str>, body: &[u8]) -> MessageWrite {
        MessageWrite {
            message_id: id.into(),
            time: 1_700_000_000_123,
            sent_by: "consumer".into(),
            participant_id: file.map(|_| "agent-7".into()),
            msg_type: "TEXT_PLAIN".into(),
            file_id: file.map(Into::into),
            sealed_body: body.to_vec(),
            content_mac: vec![9; 32],
        }
    }

    #[test]
    fn messages_round_trip_in_order() {
        let messages = [write("m1", None, b"sealed"), write("m2", Some("f1"), &[0; 300])];
        let mut log = pack(&messages).unwrap();
        append(&mut log, 2, &write("m3", None, b""));
        let read = unpack(&log).unwrap();
        let ids: Vec<(i64, &str)> = read.iter().map(|m| (m.seq, m.message_id)).collect();
        assert_eq!(ids, [(0, "m1"), (1, "m2"), (2, "m3")]);
        assert_eq!(read[1].file_id, Some("f1"));
        assert_eq!(read[1].participant_id, Some("agent-7"));
        assert_eq!(read[0].participant_id, None);
        assert_eq!(read[1].sealed_body, &[0; 300][..]);
        assert_eq!((read[0].time, read[0].content_mac), (1_700_000_000_123, &[9; 32][..]));
        assert_eq!(pack(&[]), None);
        let other = pack(&[write("m1", Some("f0"), b""), write("m2", Some("f1"), b"")]).unwrap();
        assert_eq!(
            referenced_files([log.as_slice(), other.as_slice()]).unwrap(),
            ["f0", "f1"],
            "each referenced file once, in order"
        );
    }

    #[test]
    fn broken_columns_are_refused() {
        let log = pack(&[write("m1", Some("f"), b"body")]).unwrap();
        for cut in 1..log.len() {
            assert!(unpack(&log[..cut]).is_none(), "cut at {cut}");
        }
        let mut extra = log.clone();
        extra.extend_from_slice(&sealed_list::pack([(1, &b"\0\0\0\x01x"[..])]));
        assert!(unpack(&extra).is_none(), "a frame missing fields");
    }
}
