//! The plaintext a message's sealed body holds.
//!
//! A text body, nearly every message, is its UTF-8 bytes followed by [`TEXT_TAG`]:
//! opening one turns the opened buffer into the message's `String` without parsing or
//! copying it, where the JSON of [`MessageBody`] cost a search a tenth of its
//! instructions. Every other kind is that JSON, as every body was before; JSON always
//! ends in `}`, so the last byte tells the two apart and bodies written before still
//! open.

use crate::error::{ServiceError, ServiceResult};
use lethe_domain::conversation::MessageBody;

/// The last byte of a text body.
const TEXT_TAG: u8 = 0x01;

/// The plaintext to seal for `body`.
pub(crate) fn encode(body: &MessageBody) -> Vec<u8> {
    match body {
        MessageBody::Text(text) => {
            let mut plain = Vec::with_capacity(text.len() + 1);
            plain.extend_from_slice(text.as_bytes());
            plain.push(TEXT_TAG);
            plain
        }
        other => serde_json::to_vec(other).expect("message bodies serialise"),
    }
}

/// The body an opened plaintext holds.
pub(crate) fn decode(mut plain: Vec<u8>) -> ServiceResult<MessageBody> {
    if plain.last() == Some(&TEXT_TAG) {
        plain.pop();
        return String::from_utf8(plain).map(MessageBody::Text).map_err(|e| {
            let at = e.utf8_error().valid_up_to();
            ServiceError::Internal(format!("stored message is not UTF-8 (at byte {at})"))
        });
    }
    crate::views::parse("message", &plain)
}

#[cfg(test)]
mod tests {
    use super::*;
    use lethe_domain::FileId;

    fn bodies() -> Vec<MessageBody> {
        vec![
            MessageBody::Text(String::new()),
            MessageBody::Text("héllo \u{1}\"}".into()),
            MessageBody::Link {
                url: "https://example.com".into(),
                caption: None,
            },
            MessageBody::HostedFile {
                file_id: FileId::parse("f1").unwrap(),
                caption: Some("a photo".into()),
            },
            MessageBody::RichContent(serde_json::json!({"type": "vertical", "elements": []})),
        ]
    }

    #[test]
    fn every_kind_round_trips() {
        for body in bodies() {
            assert_eq!(decode(encode(&body)).unwrap(), body);
        }
    }

    /// Bodies sealed before text had its own form were the JSON of every kind.
    #[test]
    fn json_bodies_written_before_still_decode() {
        for body in bodies() {
            assert_eq!(decode(serde_json::to_vec(&body).unwrap()).unwrap(), body);
        }
    }

    #[test]
    fn damaged_plaintext_is_an_error_not_a_panic() {
        for plain in [vec![], vec![0xff, TEXT_TAG], b"{\"text\":".to_vec(), vec![b'x']] {
            assert!(matches!(decode(plain), Err(ServiceError::Internal(_))));
        }
    }
}
